import { type events, shard } from '@spillway/contracts';
import { createGrpcClient, type GrpcClient } from '@spillway/grpc';
import {
  createKafkaMessaging,
  defineTopic,
  type DeliveredEvent,
  type EventSubscriber,
  silentLogger,
  topics,
} from '@spillway/messaging';
import {
  createTestDatabase,
  createTestTopics,
  type TestDatabase,
  type TestTopics,
  testInfrastructure,
} from '@spillway/testing';
import { type RunningShardMetadata, startShardMetadata } from '../../src/bootstrap.js';
import { shardMetadataConfigSchema, type ShardMetadataConfig } from '../../src/config.js';

export type RegistryClient = GrpcClient<typeof shard.ShardRegistryDefinition>;

export interface ShardMetadataFixture {
  readonly config: ShardMetadataConfig;
  readonly database: TestDatabase;
  client: RegistryClient;
  /** Lifecycle events consumed from the service's private topic so far. */
  readonly lifecycleEvents: DeliveredEvent<events.ShardLifecycleEvent>[];
  /** Stops the service and starts it again on the same database. */
  restart(): Promise<void>;
  cleanup(): Promise<void>;
}

/**
 * The service started in this process on 127.0.0.1, with its own database and lifecycle topic,
 * and a consumer of that topic.
 */
export async function startShardMetadataFixture(
  env: Record<string, string> = {},
): Promise<ShardMetadataFixture> {
  const database = await createTestDatabase();
  const kafka: TestTopics<'lifecycle'> = await createTestTopics({ lifecycle: 3 });
  const config = shardMetadataConfigSchema.parse({
    GRPC_PORT: '0',
    DATABASE_URL: database.url,
    DATABASE_CREATE_IF_MISSING: 'false',
    KAFKA_BROKERS: testInfrastructure.kafkaBrokers.join(','),
    SHARD_LIFECYCLE_TOPIC: kafka.names.lifecycle,
    HEARTBEAT_INTERVAL_MS: '100',
    FAILURE_AFTER_MS: '600',
    SHUTDOWN_GRACE_MS: '1000',
    ...env,
  });

  const lifecycleEvents: DeliveredEvent<events.ShardLifecycleEvent>[] = [];
  const subscriber: EventSubscriber = createKafkaMessaging({
    brokers: testInfrastructure.kafkaBrokers,
    clientId: 'shard-metadata-test',
    source: '/spillway/shard-metadata-test',
    logger: silentLogger,
  })
    .createSubscriber({ groupId: kafka.groupId('lifecycle'), fromBeginning: true })
    .subscribe(
      defineTopic(kafka.names.lifecycle, topics.shardLifecycle.codec),
      async (delivery) => {
        lifecycleEvents.push(delivery);
      },
    );
  await subscriber.start();

  let service: RunningShardMetadata = await startShardMetadata(config, ['error']);
  const connect = (): RegistryClient =>
    createGrpcClient(shard.ShardRegistryDefinition, `127.0.0.1:${service.port}`, {
      defaultDeadlineMs: 10_000,
    });

  const fixture: ShardMetadataFixture = {
    config,
    database,
    client: connect(),
    lifecycleEvents,
    async restart() {
      fixture.client.close();
      await service.close();
      service = await startShardMetadata(config, ['error']);
      fixture.client = connect();
    },
    async cleanup() {
      fixture.client.close();
      await service.close();
      await subscriber.stop();
      await kafka.cleanup();
      await database.cleanup();
    },
  };
  return fixture;
}

let sequence = 0;

/** A RegisterShardRequest's shard with unique id; override what the test is about. */
export function aShard(overrides: Partial<shard.Shard> = {}): shard.Shard {
  sequence++;
  return {
    shardId: `it-shard-${sequence}-${Math.random().toString(16).slice(2, 8)}`,
    pool: 'pool-a',
    model: 'llama-3-8b',
    modelVersion: '1',
    zone: 'zone-1',
    endpoint: `127.0.0.1:${51000 + sequence}`,
    state: shard.ShardState.SHARD_STATE_UNSPECIFIED,
    maxInFlightStreams: 32,
    kvCapacityTokens: 400_000,
    hardwareProfile: 'sim-a100',
    costPerHour: 1.5,
    load: undefined,
    lastHeartbeatAtMs: 0,
    registeredAtMs: 0,
    revision: 0,
    ...overrides,
  };
}

/** Reads a server stream in the background into `received`, until `stop()`. */
export function collect<T>(open: (signal: AbortSignal) => AsyncIterable<T>): {
  received: T[];
  stop(): Promise<void>;
} {
  const controller = new AbortController();
  const received: T[] = [];
  const reading = (async () => {
    try {
      for await (const message of open(controller.signal)) received.push(message);
    } catch (error) {
      if (!controller.signal.aborted) throw error;
    }
  })();
  return {
    received,
    stop: async () => {
      controller.abort();
      await reading;
    },
  };
}
