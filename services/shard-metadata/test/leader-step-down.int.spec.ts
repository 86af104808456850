import { shard } from '@spillway/contracts';
import { createGrpcClient } from '@spillway/grpc';
import { silentLogger } from '@spillway/messaging';
import {
  createTestDatabase,
  createTestTopics,
  freePort,
  testInfrastructure,
  waitFor,
  type TestDatabase,
  type TestTopics,
} from '@spillway/testing';
import pg from 'pg';
import {
  type ReplicaLog,
  type ShardMetadataReplica,
  startShardMetadataReplica,
} from '../src/bootstrap.js';
import { shardMetadataConfigSchema } from '../src/config.js';
import { aShard, type RegistryClient } from './support/shard-metadata.fixture.js';

// Two instances in this process on one database. The leader's lock connection is terminated from
// the database side (what an operator's pg_terminate_backend, a network cut or a PostgreSQL
// failover does to it): the leader must stop serving at once and stand by, and the standby must
// take over with the registry as stored.

const quiet: ReplicaLog = {
  standingBy: () => undefined,
  leading: () => undefined,
  steppedDown: () => undefined,
  termFailed: () => undefined,
  lockUnreachable: () => undefined,
};

describe('shard-metadata leader election', () => {
  let database: TestDatabase | undefined;
  let topics: TestTopics<'lifecycle'> | undefined;
  const replicas: ShardMetadataReplica[] = [];
  const clients: RegistryClient[] = [];

  const start = async (port: number): Promise<ShardMetadataReplica> => {
    const config = shardMetadataConfigSchema.parse({
      GRPC_PORT: String(port),
      DATABASE_URL: database!.url,
      DATABASE_CREATE_IF_MISSING: 'false',
      DATABASE_POOL_SIZE: '3',
      KAFKA_BROKERS: testInfrastructure.kafkaBrokers.join(','),
      SHARD_LIFECYCLE_TOPIC: topics!.names.lifecycle,
      HEARTBEAT_INTERVAL_MS: '100',
      FAILURE_AFTER_MS: '600',
      SHUTDOWN_GRACE_MS: '500',
      LEADER_RETRY_MS: '100',
    });
    const replica = startShardMetadataReplica(config, ['error'], quiet);
    replicas.push(replica);
    return replica;
  };

  const connect = (address: string): RegistryClient => {
    const client = createGrpcClient(shard.ShardRegistryDefinition, address, {
      defaultDeadlineMs: 5_000,
    });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    topics = await createTestTopics({ lifecycle: 1 }, { logger: silentLogger });
  }, 60_000);

  afterAll(async () => {
    for (const client of clients) client.close();
    await Promise.all(replicas.map((replica) => replica.close()));
    await topics?.cleanup();
    await database?.cleanup();
  }, 60_000);

  it('steps down when its lock connection is terminated; the standby takes over with the stored registry', async () => {
    const [firstPort, secondPort] = [await freePort(), await freePort()];
    const first = await start(firstPort);
    await first.firstTerm;
    const second = await start(secondPort);
    // Only one leads; the standby does not listen.
    await expect(connect(`127.0.0.1:${secondPort}`).listShards({})).rejects.toMatchObject({
      code: 'DEPENDENCY.UNAVAILABLE',
    });
    expect([first.leading, second.leading]).toEqual([true, false]);

    const both = connect(`127.0.0.1:${firstPort},127.0.0.1:${secondPort}`);
    const registered = aShard({ pool: 'pool-step-down' });
    await both.registerShard({ shard: registered });
    await both.heartbeat({ shardId: registered.shardId, ready: true });
    const pinned = await both.compareAndSetAssignment({
      conversationId: 'conv-step-down',
      tenantId: 'tenant-1',
      shardId: registered.shardId,
      expectedVersion: 0,
      reason: 'placed',
    });
    expect(pinned.applied).toBe(true);

    await terminateLeaderLockConnection(database!.url);

    await waitFor(() => !first.leading && second.leading, {
      description: 'the first instance to step down and the second to lead',
      timeoutMs: 30_000,
    });
    // The stepped-down instance no longer listens.
    await expect(connect(`127.0.0.1:${firstPort}`).listShards({})).rejects.toMatchObject({
      code: 'DEPENDENCY.UNAVAILABLE',
    });
    // The new leader serves the stored registry: the pin is in force, the shard still READY.
    const { assignment } = await waitFor(
      () => both.getAssignment({ conversationId: 'conv-step-down' }),
      { description: 'the new leader to answer through the address list', timeoutMs: 30_000 },
    );
    expect(assignment).toMatchObject({
      shardId: registered.shardId,
      version: pinned.current!.version,
    });
    const stale = await both.compareAndSetAssignment({
      conversationId: 'conv-step-down',
      tenantId: 'tenant-1',
      shardId: registered.shardId,
      expectedVersion: 0,
      reason: 'placed',
    });
    expect(stale).toMatchObject({ applied: false, current: { version: pinned.current!.version } });
    const { shards } = await both.listShards({ pool: 'pool-step-down' });
    expect(shards.map((s) => s.state)).toEqual([shard.ShardState.SHARD_STATE_READY]);
    // And the first one stands by again rather than leading beside it.
    expect(first.leading).toBe(false);
  }, 90_000);
});

/** Terminates the backend that holds the registry's leader lock, as PostgreSQL would drop it. */
async function terminateLeaderLockConnection(databaseUrl: string): Promise<void> {
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ terminated: boolean }>(
      `SELECT pg_terminate_backend(activity.pid) AS terminated
         FROM pg_stat_activity activity
         JOIN pg_locks lock ON lock.pid = activity.pid
        WHERE activity.application_name = 'spillway-shard-metadata-leader'
          AND activity.datname = current_database()
          AND lock.locktype = 'advisory' AND lock.granted`,
    );
    expect(rows).toEqual([{ terminated: true }]);
  } finally {
    await admin.end();
  }
}
