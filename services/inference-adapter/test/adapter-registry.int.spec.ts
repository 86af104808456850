import { shard } from '@spillway/contracts';
import { createGrpcClient } from '@spillway/grpc';
import {
  shardMetadataConfigSchema,
  startShardMetadata,
  type RunningShardMetadata,
} from '@spillway/shard-metadata';
import {
  createTestDatabase,
  createTestTopics,
  freePort,
  testInfrastructure,
  waitFor,
  type TestDatabase,
  type TestTopics,
} from '@spillway/testing';
import { collectTurn, generateRequest } from './factories/turns.js';
import { startAdapter, type AdapterUnderTest } from './support/adapter-in-process.js';
import { startGpuSimProcess, type GpuSimProcess } from './support/gpu-sim-process.js';

// The shard and the real registry (shard-metadata, in this process, with its own database and
// lifecycle topic): the adapter must serve before the registry exists and join it once it does.
describe('inference adapter and the shard registry', () => {
  let sim: GpuSimProcess;
  let database: TestDatabase;
  let kafka: TestTopics<'lifecycle'>;
  let registry: RunningShardMetadata | undefined;
  let adapter: AdapterUnderTest | undefined;

  beforeAll(async () => {
    sim = await startGpuSimProcess({ timeScale: 0.01 });
    database = await createTestDatabase();
    kafka = await createTestTopics({ lifecycle: 1 });
  });
  afterAll(async () => {
    await adapter?.close();
    await registry?.close();
    await kafka?.cleanup();
    await database?.cleanup();
    await sim?.stop();
  });

  it('serves without a registry, registers once it appears, heartbeats its load and follows its drain', async () => {
    const registryPort = await freePort();
    adapter = await startAdapter({
      SHARD_ID: 'shard-test-registry',
      ENGINE_URL: sim.url,
      REGISTRY_ADDRESS: `127.0.0.1:${registryPort}`,
      MAX_IN_FLIGHT_STREAMS: '7',
    });
    // No registry yet: the shard serves anyway.
    expect((await collectTurn(adapter.client.generate(generateRequest()))).completed).toBeDefined();

    registry = await startShardMetadata(
      shardMetadataConfigSchema.parse({
        GRPC_PORT: String(registryPort),
        DATABASE_URL: database.url,
        DATABASE_CREATE_IF_MISSING: 'false',
        KAFKA_BROKERS: testInfrastructure.kafkaBrokers.join(','),
        SHARD_LIFECYCLE_TOPIC: kafka.names.lifecycle,
        HEARTBEAT_INTERVAL_MS: '200',
        FAILURE_AFTER_MS: '2000',
        SHUTDOWN_GRACE_MS: '1000',
      }),
      ['error'],
    );
    const client = createGrpcClient(shard.ShardRegistryDefinition, `127.0.0.1:${registryPort}`, {
      defaultDeadlineMs: 5_000,
    });
    try {
      const registered = await waitFor(
        async () => {
          const { shards } = await client.listShards({ pool: '', includeRemoved: false });
          const found = shards.find((s) => s.shardId === 'shard-test-registry');
          return found?.state === shard.ShardState.SHARD_STATE_READY ? found : undefined;
        },
        { description: 'the shard READY in the registry', timeoutMs: 20_000 },
      );
      expect(registered).toMatchObject({
        pool: 'pool-test',
        model: 'llama-3.1-8b',
        endpoint: adapter.address,
        maxInFlightStreams: 7,
        load: { maxInFlightStreams: 7 },
      });

      await client.drainShard({ shardId: 'shard-test-registry', reason: 'scale-down' });
      await waitFor(async () => (await adapter!.client.getLoad({})).draining, {
        description: 'the adapter draining after the registry drained it',
      });
    } finally {
      client.close();
    }
  });
});
