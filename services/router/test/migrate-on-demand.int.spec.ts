import { shard } from '@spillway/contracts';
import { createTestTopics, waitFor, type TestTopics } from '@spillway/testing';
import { MigrateOnDemand } from '../src/application/migrate-conversations/index.js';
import { SILENT_LOG } from '../src/application/index.js';
import { AssignmentView } from '../src/domain/index.js';
import { startSagaInWorld, type RunningSaga } from './support/migration-saga.runner.js';
import { startMigrationWorld, type MigrationWorld } from './support/migration-world.js';
import { expectEachMovedOnce } from './support/moved-once.js';

// The saga's on-demand half against the real registry and conversation-state: turns arrive for
// conversations whose shard has failed before any lifecycle event moved them (the saga here
// consumes a topic that never gets one). Each conversation moves once, with one
// ConversationMigrated, even with two turns racing for it.
const CONVERSATIONS = 20;

let world: MigrationWorld;
let quietTopic: TestTopics<'lifecycle'>;
let saga: RunningSaga;

beforeAll(async () => {
  world = await startMigrationWorld();
  await world.registerShards(['shard-a', 'shard-b', 'shard-c']);
  quietTopic = await createTestTopics({ lifecycle: 1 }, { prefix: 'on-demand' });
  saga = await startSagaInWorld(world, { concurrency: 4, lifecycle: quietTopic });
}, 120_000);

afterAll(async () => {
  await saga?.stop();
  await quietTopic?.cleanup();
  await world?.close();
}, 60_000);

it('moves a conversation whose shard failed when its next turn arrives, once, with one ConversationMigrated', async () => {
  const ids = await world.seedConversations('shard-a', CONVERSATIONS);
  // The router's local copy of the map, as its assignment watch would hold it.
  const assignments = new AssignmentView();
  for (const pinned of await world.listOnShard('shard-a')) assignments.applyRemote(pinned);
  const onDemand = new MigrateOnDemand({
    assignments,
    shards: saga.shards,
    saga: saga.saga,
    log: SILENT_LOG,
  });
  expect(ids.some((id) => onDemand.isOnGoneShard(id))).toBe(false);

  world.stopHeartbeats('shard-a');
  await waitFor(() => saga.shards.get('shard-a')?.state === 'failed', {
    description: "the router's directory to see shard-a failed",
    timeoutMs: 15_000,
  });

  // Two turns per conversation arrive at once.
  const moves = await Promise.all(
    ids.flatMap((id) => [onDemand.beforeTurn(id), onDemand.beforeTurn(id)]),
  );
  expect(moves.filter((move) => move?.outcome === 'migrated').length).toBeGreaterThanOrEqual(
    CONVERSATIONS,
  );

  expect(await world.listOnShard('shard-a')).toEqual([]);
  await expectEachMovedOnce(world, ids, ['shard-b', 'shard-c']);
  // The registry's own lifecycle topic did announce the failure; nothing here consumed it.
  expect(await world.shardState('shard-a')).toBe(shard.ShardState.SHARD_STATE_FAILED);
}, 120_000);
