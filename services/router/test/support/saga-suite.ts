import { startSagaInWorld, type RunningSaga } from './migration-saga.runner.js';
import { startMigrationWorld, type MigrationWorld } from './migration-world.js';

export interface SagaSuite {
  readonly world: MigrationWorld;
  readonly saga: RunningSaga;
}

/**
 * One migration world with `shards` registered and a saga running on it, for the whole suite:
 * started before its first test, stopped after its last. Read `world` and `saga` inside tests.
 */
export function sagaSuite(options: {
  readonly concurrency: number;
  readonly shards?: readonly string[];
}): SagaSuite {
  const suite = {} as { world: MigrationWorld; saga: RunningSaga };
  beforeAll(async () => {
    suite.world = await startMigrationWorld();
    await suite.world.registerShards(options.shards ?? ['shard-a', 'shard-b', 'shard-c']);
    suite.saga = await startSagaInWorld(suite.world, { concurrency: options.concurrency });
  }, 120_000);
  afterAll(async () => {
    await suite.saga?.stop();
    await suite.world?.close();
  }, 60_000);
  return suite;
}
