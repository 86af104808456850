import { createKafkaMessaging, silentLogger } from '@spillway/messaging';
import { testInfrastructure, type TestTopics } from '@spillway/testing';
import { ModelRoutesSource } from '../../src/adapters/config/model-routes.source.js';
import {
  createMigrationSaga,
  type MigrationSaga,
} from '../../src/adapters/migration/migration-saga.js';
import { createRegistryClient } from '../../src/adapters/registry/registry-client.js';
import { ShardWatchConsumer } from '../../src/adapters/registry/shard-watch.consumer.js';
import { WatchLoop } from '../../src/adapters/registry/watch-loop.js';
import {
  NO_METRICS,
  SILENT_LOG,
  TurnAdmission,
  type LogPort,
} from '../../src/application/index.js';
import type { PrewarmPort } from '../../src/application/migrate-conversations/index.js';
import {
  DEFAULT_LATENCY_MODEL,
  DEFAULT_PLACEMENT_CONFIG,
  PlacementPipeline,
  seededRandom,
  ShardDirectory,
  ShardQueues,
} from '../../src/domain/index.js';

export interface SagaRunnerOptions {
  readonly registryAddress: string;
  readonly conversationStoreAddress: string;
  readonly kafkaBrokers: readonly string[];
  readonly lifecycleTopic: string;
  readonly groupId: string;
  readonly concurrency: number;
  readonly prewarm?: PrewarmPort | undefined;
  readonly log?: LogPort | undefined;
}

export interface RunningSaga extends MigrationSaga {
  readonly shards: ShardDirectory;
}

/**
 * Just the migration saga with the router's real adapters, its shard directory fed by the
 * registry's watch as the router's is: what the crash test runs in a child process.
 */
export async function startSaga(options: SagaRunnerOptions): Promise<RunningSaga> {
  const log = options.log ?? SILENT_LOG;
  const clock = { nowMs: () => Date.now() };
  const shards = new ShardDirectory();
  const queues = new ShardQueues(64);
  const admission = new TurnAdmission({
    shards,
    queues,
    clock,
    latency: DEFAULT_LATENCY_MODEL,
    metrics: NO_METRICS,
  });
  const routes = new ModelRoutesSource({ kind: 'derived' }, shards, log);
  routes.load();
  const registryClient = createRegistryClient(options.registryAddress, 5_000);
  const watch = new WatchLoop(
    new ShardWatchConsumer(registryClient, shards, admission, routes, log).consume,
    { name: 'shard', initialBackoffMs: 100, maxBackoffMs: 1_000, log },
  );
  watch.start();
  for (let i = 0; i < 500 && !watch.isConnected; i++) await sleep(20);
  if (!watch.isConnected) throw new Error('the shard watch did not connect within 10 s');

  const saga = createMigrationSaga({
    registryClient,
    conversationStore: {
      address: options.conversationStoreAddress,
      deadlineMs: 5_000,
      contextTokenBudget: 8_192,
    },
    messaging: createKafkaMessaging({
      brokers: options.kafkaBrokers,
      clientId: 'router-migration',
      source: '/spillway/router',
      logger: silentLogger,
      consumer: { sessionTimeoutMs: 10_000 },
    }),
    lifecycleTopic: options.lifecycleTopic,
    groupId: options.groupId,
    pipeline: new PlacementPipeline(DEFAULT_PLACEMENT_CONFIG, seededRandom(11)),
    shards,
    routes,
    queues,
    clock,
    log,
    prewarm: options.prewarm,
    settings: { concurrency: options.concurrency },
  });
  await saga.start();
  return {
    saga: saga.saga,
    moves: saga.moves,
    shards,
    start: () => Promise.resolve(),
    stop: async () => {
      await saga.stop();
      await watch.stop();
      registryClient.close();
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The saga in this process against a migration world: its registry and conversation store, and
 * (unless the suite gives another one) the world's lifecycle topic.
 */
export function startSagaInWorld(
  world: {
    readonly registryAddress: string;
    readonly storeAddress: string;
    readonly topics: TestTopics<'lifecycle' | 'conversations'>;
  },
  options: { readonly concurrency: number; readonly lifecycle?: TestTopics<'lifecycle'> },
): Promise<RunningSaga> {
  const lifecycle = options.lifecycle ?? world.topics;
  return startSaga({
    registryAddress: world.registryAddress,
    conversationStoreAddress: world.storeAddress,
    kafkaBrokers: testInfrastructure.kafkaBrokers,
    lifecycleTopic: lifecycle.names.lifecycle,
    groupId: lifecycle.groupId('router-migration'),
    concurrency: options.concurrency,
  });
}
