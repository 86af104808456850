import { events, type conversation } from '@spillway/contracts';
import { waitFor } from '@spillway/testing';
import { TENANT } from './support/migration-world.js';
import { sagaSuite } from './support/saga-suite.js';

// A stored conversation's pins are recorded too (ConversationPinned), so its stream follows the
// registry through a spill: a failover off the spill target is then recorded as the move it is,
// where before conversation-state refused it (the stream still named the shard spilled from).

const suite = sagaSuite({ concurrency: 2 });

async function stream(conversationId: string): Promise<events.ConversationEvent['event'][]> {
  const read = await suite.world.store.readStream({
    tenantId: TENANT,
    conversationId,
    fromVersion: 1,
    maxCount: 1_000,
  });
  return read.events.map(
    (stored: conversation.StoredEvent) => events.ConversationEvent.decode(stored.payload).event,
  );
}

async function pinnedShards(conversationId: string): Promise<string[]> {
  return (await stream(conversationId)).flatMap((event) =>
    event?.$case === 'pinned' ? [`${event.value.shardId} (${event.value.reason})`] : [],
  );
}

async function moveInRegistry(conversationId: string, shardId: string, reason: string) {
  const before = await suite.world.assignment(conversationId);
  const outcome = await suite.world.registry.compareAndSetAssignment({
    conversationId,
    tenantId: TENANT,
    shardId,
    expectedVersion: before?.version ?? 0,
    reason,
  });
  expect(outcome.applied).toBe(true);
  return { fromVersion: before?.version ?? 0, toVersion: outcome.current?.version ?? 0 };
}

/** A turn's failover c → b, recorded after the registry applied it; waits until it is. */
async function recordFailover(
  conversationId: string,
  versions: { fromVersion: number; toVersion: number },
) {
  suite.saga.moves.moved({
    tenantId: TENANT,
    conversationId,
    fromShardId: 'shard-c',
    toShardId: 'shard-b',
    reason: 'failover',
    ...versions,
  });
  await waitFor(async () => (await suite.world.migratedEvents(conversationId)).length === 1, {
    description: 'the failover recorded',
    timeoutMs: 10_000,
  });
}

it('records the first pin and a spill, then a failover off the spill target as one move', async () => {
  const { world, saga } = suite;
  const [conversationId = ''] = await world.seedConversations('shard-a', 1);
  const firstPin = {
    tenantId: TENANT,
    conversationId,
    shardId: 'shard-a',
    fromVersion: 0,
    toVersion: (await world.assignment(conversationId))?.version ?? 0,
  };
  saga.moves.pinned({ ...firstPin, reason: 'new' });
  // The same pin again (a retry, another replica): recorded once.
  saga.moves.pinned({ ...firstPin, reason: 'new' });

  const spill = await moveInRegistry(conversationId, 'shard-c', 'spill');
  saga.moves.pinned({
    tenantId: TENANT,
    conversationId,
    shardId: 'shard-c',
    reason: 'spill',
    ...spill,
  });
  await waitFor(async () => (await pinnedShards(conversationId)).length === 2, {
    description: 'the first pin and the spill recorded',
    timeoutMs: 10_000,
  });

  const failover = await moveInRegistry(conversationId, 'shard-b', 'failover');
  await recordFailover(conversationId, failover);

  const moves = (await stream(conversationId)).flatMap((event) =>
    event?.$case === 'migrated' ? [`${event.value.fromShardId}->${event.value.toShardId}`] : [],
  );
  expect(await pinnedShards(conversationId)).toEqual(['shard-a (new)', 'shard-c (spill)']);
  expect(moves).toEqual(['shard-c->shard-b']);
  expect((await world.assignment(conversationId))?.shardId).toBe('shard-b');
}, 60_000);

it('ends the stream on the registry’s newest shard when a spill and a failover are recorded out of order', async () => {
  const { world } = suite;
  const [conversationId = ''] = await world.seedConversations('shard-a', 1, 'out-of-order');
  // The registry: a spill a → c, then a failover c → b. Their records reach conversation-state in
  // the other order (each is sent in the background, after the registry applied it).
  const spill = await moveInRegistry(conversationId, 'shard-c', 'spill');
  const failover = await moveInRegistry(conversationId, 'shard-b', 'failover');
  await recordFailover(conversationId, failover);

  const late = await world.store.pinConversation({
    tenantId: TENANT,
    conversationId,
    shardId: 'shard-c',
    reason: 'spill',
    assignmentVersion: spill.toVersion,
  });

  expect(late.result?.duplicate).toBe(true);
  const read = await world.store.getConversation({ tenantId: TENANT, conversationId });
  expect(read.conversation?.shardId).toBe('shard-b');
  expect(await pinnedShards(conversationId)).toEqual([]);
  expect((await world.assignment(conversationId))?.shardId).toBe('shard-b');
}, 60_000);
