import { events, shard } from '@spillway/contracts';
import { waitFor } from '@spillway/testing';
import { TENANT } from './support/migration-world.js';
import { sagaSuite } from './support/saga-suite.js';

// Turns fail over off a dying shard before the registry declares it failed: placement re-pins
// those conversations itself (reason failover) and RecordedMoves records each move. Then the saga
// moves the rest on ShardFailed. Every conversation ends with exactly one ConversationMigrated,
// and it names the shard the registry pins it to: the two paths never both record a move.
const CONVERSATIONS = 24;

const suite = sagaSuite({ concurrency: 8 });

it('records one ConversationMigrated per conversation whether a failover or the saga moved it', async () => {
  const { world, saga } = suite;
  const ids = await world.seedConversations('shard-a', CONVERSATIONS);
  const failedOver = ids.slice(0, CONVERSATIONS / 2);

  // shard-a dies; turns on half of its conversations fail over to shard-b at once, as placement
  // does it: compare-and-set from the version it read, then the move reported.
  world.stopHeartbeats('shard-a');
  await Promise.all(
    failedOver.map(async (conversationId) => {
      const before = await world.assignment(conversationId);
      const pinned = await world.registry.compareAndSetAssignment({
        conversationId,
        tenantId: TENANT,
        shardId: 'shard-b',
        expectedVersion: before?.version ?? 0,
        reason: 'failover',
      });
      expect(pinned.applied).toBe(true);
      saga.moves.moved({
        tenantId: TENANT,
        conversationId,
        fromShardId: 'shard-a',
        toShardId: 'shard-b',
        reason: 'failover',
        fromVersion: before?.version ?? 0,
        toVersion: pinned.current?.version ?? 0,
      });
    }),
  );
  await waitFor(
    async () =>
      (await Promise.all(failedOver.map((id) => world.migratedEvents(id)))).every(
        (migrated) => migrated.length === 1,
      ),
    { description: 'a ConversationMigrated for every failed-over conversation', timeoutMs: 20_000 },
  );

  // Then the registry declares shard-a failed and the saga moves what is still on it.
  await waitFor(
    async () => (await world.shardState('shard-a')) === shard.ShardState.SHARD_STATE_FAILED,
    { description: 'the registry to declare shard-a failed', timeoutMs: 15_000 },
  );
  await waitFor(async () => (await world.listOnShard('shard-a')).length === 0, {
    description: 'the saga to move the rest off shard-a',
    timeoutMs: 60_000,
    intervalMs: 200,
  });
  // Give a redelivered or second saga pass the chance to record a duplicate, if it would.
  await new Promise((resolve) => setTimeout(resolve, 1_500));

  for (const conversationId of ids) {
    const assignment = await world.assignment(conversationId);
    const migrated = await world.migratedEvents(conversationId);
    const moves = migrated
      .map((stored) => events.ConversationEvent.decode(stored.payload).event)
      .flatMap((event) => (event?.$case === 'migrated' ? [event.value] : []));
    // One record, and it agrees with the registry on where the conversation went.
    expect({ conversationId, moves: moves.map((m) => `${m.fromShardId}->${m.toShardId}`) }).toEqual(
      {
        conversationId,
        moves: [`shard-a->${assignment?.shardId}`],
      },
    );
    expect(['shard-b', 'shard-c']).toContain(assignment?.shardId);
    if (failedOver.includes(conversationId)) {
      expect(assignment).toMatchObject({ shardId: 'shard-b', reason: 'failover' });
    } else {
      expect(assignment?.reason).toBe('migration');
    }
  }
}, 150_000);
