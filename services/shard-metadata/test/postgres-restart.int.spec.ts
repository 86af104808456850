import { shard } from '@spillway/contracts';
import { DomainError } from '@spillway/errors';
import { createGrpcClient } from '@spillway/grpc';
import { silentLogger } from '@spillway/messaging';
import {
  createTestDatabase,
  createTestTopics,
  startPrivatePostgres,
  testInfrastructure,
  waitFor,
  type PrivatePostgres,
  type TestDatabase,
  type TestTopics,
} from '@spillway/testing';
import { type RunningShardMetadata, startShardMetadata } from '../src/bootstrap.js';
import { shardMetadataConfigSchema } from '../src/config.js';
import { aShard, type RegistryClient } from './support/shard-metadata.fixture.js';

// The registry's database crashes (immediate stop: every connection dropped mid-query) while
// heartbeats and compare-and-sets are in flight. The process must survive it, refuse what it cannot
// serve as a retryable DEPENDENCY.UNAVAILABLE (the leader lock's connection is gone too, so it
// stops serving until it holds the lock again: docs/adr/0008), serve again once the database is
// back, and keep every compare-and-set it acknowledged.

const WRITERS = 4;
const PACE_MS = 10;
// Bounds on the traffic loop; the phases below normally stop it much earlier.
const MAX_CALLS_PER_WRITER = 3_000;
const TRAFFIC_LIMIT_MS = 120_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('shard-metadata through a PostgreSQL crash and restart', () => {
  let postgres: PrivatePostgres | undefined;
  let database: TestDatabase | undefined;
  let topics: TestTopics<'lifecycle'> | undefined;
  let service: RunningShardMetadata | undefined;
  let client: RegistryClient | undefined;

  beforeAll(async () => {
    postgres = await startPrivatePostgres();
    database = await createTestDatabase({ serverUrl: postgres.url });
    topics = await createTestTopics({ lifecycle: 1 }, { logger: silentLogger });
    const config = shardMetadataConfigSchema.parse({
      GRPC_PORT: '0',
      DATABASE_URL: database.url,
      DATABASE_CREATE_IF_MISSING: 'false',
      DATABASE_POOL_SIZE: '4',
      DATABASE_CONNECT_TIMEOUT_MS: '2000',
      KAFKA_BROKERS: testInfrastructure.kafkaBrokers.join(','),
      SHARD_LIFECYCLE_TOPIC: topics.names.lifecycle,
      // The shard keeps beating through the outage; it must not be failed for the registry's own
      // trouble, so the threshold is well above the outage.
      HEARTBEAT_INTERVAL_MS: '100',
      FAILURE_AFTER_MS: '60000',
      SHUTDOWN_GRACE_MS: '1000',
    });
    service = await startShardMetadata(config, ['error']);
    client = createGrpcClient(shard.ShardRegistryDefinition, `127.0.0.1:${service.port}`, {
      defaultDeadlineMs: 5_000,
    });
  }, 120_000);

  afterAll(async () => {
    client?.close();
    await service?.close();
    await topics?.cleanup();
    await database?.cleanup().catch(() => undefined);
    await postgres?.cleanup();
  }, 60_000);

  it('survives the crash, refuses what it cannot serve as retryable, and keeps every acknowledged pin', async () => {
    const registry = client!;
    const registered = aShard({ pool: 'pool-outage' });
    await registry.registerShard({ shard: registered });
    await registry.heartbeat({ shardId: registered.shardId, ready: true });

    const acknowledged = new Map<string, number>();
    const refusals: unknown[] = [];
    let ok = 0;
    let stopping = false;
    const deadline = Date.now() + TRAFFIC_LIMIT_MS;

    const writer = async (writerIndex: number) => {
      for (
        let call = 0;
        call < MAX_CALLS_PER_WRITER && !stopping && Date.now() < deadline;
        call++
      ) {
        const conversationId = `conv-outage-${writerIndex}-${call}`;
        try {
          // Both awaited together: while the registry stands by, either may be refused first.
          const [, pinned] = await Promise.all([
            registry.heartbeat({ shardId: registered.shardId, ready: true }),
            registry.compareAndSetAssignment({
              conversationId,
              tenantId: 'tenant-outage',
              shardId: registered.shardId,
              expectedVersion: 0,
              reason: 'placed',
            }),
          ]);
          if (pinned.applied) acknowledged.set(conversationId, pinned.current!.version);
          ok++;
        } catch (error) {
          refusals.push(error);
        }
        await sleep(PACE_MS);
      }
    };
    const traffic = Promise.all(Array.from({ length: WRITERS }, (_, index) => writer(index)));

    await waitFor(() => ok >= 20, { timeoutMs: 30_000, description: 'traffic before the crash' });
    await postgres!.stop('immediate');
    await waitFor(() => refusals.length >= 5, {
      timeoutMs: 30_000,
      description: 'calls refused while the database is down',
    });
    await postgres!.start();
    const okAfterRestart = ok;
    await waitFor(() => ok >= okAfterRestart + 40, {
      timeoutMs: 60_000,
      description: 'calls served again after the restart',
    });
    stopping = true;
    await traffic;

    // Every refusal was the retryable "dependency unavailable", never an internal error.
    for (const refusal of refusals) {
      expect(refusal).toBeInstanceOf(DomainError);
      expect((refusal as DomainError).code).toBe('DEPENDENCY.UNAVAILABLE');
    }
    // Every pin the registry acknowledged is stored, at the version it answered with.
    for (const [conversationId, version] of acknowledged) {
      const { assignment } = await registry.getAssignment({ conversationId });
      expect(assignment).toMatchObject({ shardId: registered.shardId, version });
    }
    // The shard stayed READY: the registry's own outage failed no shard.
    const { shards } = await registry.listShards({});
    expect(shards.find((s) => s.shardId === registered.shardId)?.state).toBe(
      shard.ShardState.SHARD_STATE_READY,
    );
  }, 180_000);
});
