import { shard } from '@spillway/contracts';
import { waitFor } from '@spillway/testing';
import { sagaSuite } from './support/saga-suite.js';
import { expectEachMovedOnce } from './support/moved-once.js';

// Real registry and conversation-state (in this process, own databases), real Kafka topics, the
// saga with the router's real adapters (its Prewarm calls reach small gRPC Inference servers that
// record them). 200 conversations are pinned to shard-a; shard-a stops heartbeating.
const suite = sagaSuite({ concurrency: 16 });

it('moves every conversation off a failed shard, each with exactly one ConversationMigrated', async () => {
  const { world } = suite;
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

  await expectEachMovedOnce(world, ids, ['shard-b', 'shard-c']);
  // Prewarmed once each, on the shard the conversation went to.
  expect(ids.every((id) => world.prewarmed.get(id)?.length === 1)).toBe(true);
  // The load spreads: placement does not send all 200 to one shard.
  const onB = ids.filter((id) => world.prewarmed.get(id)?.[0] === 'shard-b').length;
  expect(onB).toBeGreaterThan(0);
  expect(onB).toBeLessThan(200);
}, 120_000);
