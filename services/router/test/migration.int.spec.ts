import { shard } from '@spillway/contracts';
import { testInfrastructure, waitFor } from '@spillway/testing';
import { startSaga, type RunningSaga } from './support/migration-saga.runner.js';
import { startMigrationWorld, type MigrationWorld } from './support/migration-world.js';

// Real registry and conversation-state (in this process, own databases), real Kafka topics, the
// saga with the router's real adapters (its Prewarm calls reach small gRPC Inference servers that
// record them). 200 conversations are pinned to shard-a; shard-a stops heartbeating.
let world: MigrationWorld;
let saga: RunningSaga;

beforeAll(async () => {
  world = await startMigrationWorld();
  await world.registerShards(['shard-a', 'shard-b', 'shard-c']);
  saga = await startSaga({
    registryAddress: world.registryAddress,
    conversationStoreAddress: world.storeAddress,
    kafkaBrokers: testInfrastructure.kafkaBrokers,
    lifecycleTopic: world.topics.names.lifecycle,
    groupId: world.topics.groupId('router-migration'),
    concurrency: 16,
  });
}, 120_000);

afterAll(async () => {
  await saga?.stop();
  await world?.close();
}, 60_000);

it('moves every conversation off a failed shard, each with exactly one ConversationMigrated', async () => {
  const ids = await world.seedConversations('shard-a', 200);
  expect(await world.listOnShard('shard-a')).toHaveLength(200);

  world.stopHeartbeats('shard-a');
  await waitFor(
    async () => (await world.shardState('shard-a')) === shard.ShardState.SHARD_STATE_FAILED,
    {
      description: 'the registry to declare shard-a failed',
      timeoutMs: 10_000,
    },
  );
  await waitFor(async () => (await world.listOnShard('shard-a')).length === 0, {
    description: 'the saga to move every conversation off shard-a',
    timeoutMs: 60_000,
    intervalMs: 200,
  });

  for (const conversationId of ids) {
    const assignment = await world.assignment(conversationId);
    expect(['shard-b', 'shard-c']).toContain(assignment?.shardId);
    expect(assignment?.reason).toBe('migration');
    const migrated = await world.migratedEvents(conversationId);
    expect(migrated).toHaveLength(1);
    // The stream's record agrees with the registry: from shard-a to where the pin is now.
    expect(migrated[0]?.metadata?.correlationId).toMatch(/^mig-/);
    expect(world.prewarmed.get(conversationId)).toEqual([assignment?.shardId]);
  }
  // The load spreads: placement does not send all 200 to one shard.
  const onB = ids.filter((id) => world.prewarmed.get(id)?.[0] === 'shard-b').length;
  expect(onB).toBeGreaterThan(0);
  expect(onB).toBeLessThan(200);
}, 120_000);
