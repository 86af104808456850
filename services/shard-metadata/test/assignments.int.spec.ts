import { shard } from '@spillway/contracts';
import { type DomainError } from '@spillway/errors';
import { waitFor } from '@spillway/testing';
import {
  aShard,
  collect,
  type ShardMetadataFixture,
  startShardMetadataFixture,
} from './support/shard-metadata.fixture.js';

describe('shard-metadata assignment map (in-process service, real PostgreSQL)', () => {
  let fixture: ShardMetadataFixture;
  const shardA = aShard({ pool: 'pool-assign' });
  const shardB = aShard({ pool: 'pool-assign' });
  let conversation = 0;
  const aConversation = (): string =>
    `conv-${++conversation}-${Math.random().toString(16).slice(2, 8)}`;

  beforeAll(async () => {
    // A long failure threshold: these shards do not heartbeat and must stay assignable.
    fixture = await startShardMetadataFixture({
      HEARTBEAT_INTERVAL_MS: '1000',
      FAILURE_AFTER_MS: '600000',
      WATCH_SNAPSHOT_CHUNK: '3',
    });
    for (const registration of [shardA, shardB]) {
      await fixture.client.registerShard({ shard: registration });
      await fixture.client.heartbeat({ shardId: registration.shardId, ready: true });
    }
  });

  afterAll(async () => {
    await fixture?.cleanup();
  });

  const cas = (
    conversationId: string,
    shardId: string,
    expectedVersion: number,
    reason = 'placed',
  ) =>
    fixture.client.compareAndSetAssignment({
      conversationId,
      tenantId: 'tenant-1',
      shardId,
      expectedVersion,
      reason,
    });

  it('of two concurrent compare-and-sets with the same expected version, exactly one applies', async () => {
    for (let round = 0; round < 10; round++) {
      const conversationId = aConversation();
      const first = await Promise.all([
        cas(conversationId, shardA.shardId, 0),
        cas(conversationId, shardB.shardId, 0),
      ]);
      expect(first.filter((r) => r.applied)).toHaveLength(1);
      const winner = first.find((r) => r.applied)?.current;
      expect(winner?.version).toBe(1);
      // The loser learns where the conversation lives now, with no error.
      expect(first.find((r) => !r.applied)?.current).toEqual(winner);

      const second = await Promise.all([
        cas(conversationId, shardA.shardId, 1, 'spill'),
        cas(conversationId, shardB.shardId, 1, 'spill'),
      ]);
      expect(second.filter((r) => r.applied)).toHaveLength(1);
      expect(second.find((r) => r.applied)?.current?.version).toBe(2);

      const { assignment } = await fixture.client.getAssignment({ conversationId });
      expect(assignment).toEqual(second.find((r) => r.applied)?.current);
    }
  });

  it('does not apply a stale expected version, and answers with the current assignment', async () => {
    const conversationId = aConversation();
    await cas(conversationId, shardA.shardId, 0);
    await cas(conversationId, shardB.shardId, 1, 'spill');
    const stale = await cas(conversationId, shardA.shardId, 1, 'spill');
    expect(stale).toMatchObject({
      applied: false,
      current: {
        conversationId,
        shardId: shardB.shardId,
        version: 2,
        reason: 'spill',
        tenantId: 'tenant-1',
      },
    });
  });

  it('streams every assignment in snapshot chunks, then each change', async () => {
    const existing = aConversation();
    await cas(existing, shardA.shardId, 0);
    const watch = collect((signal) =>
      fixture.client.watchAssignments({}, { signal, deadline: 60_000 }),
    );
    await waitFor(
      () => watch.received.some((m) => m.change?.$case === 'snapshot' && m.change.value.complete),
      {
        description: 'the complete WatchAssignments snapshot',
      },
    );
    const snapshot = watch.received.flatMap((m) =>
      m.change?.$case === 'snapshot' ? m.change.value.assignments : [],
    );
    expect(snapshot.map((a) => a.conversationId)).toContain(existing);
    // WATCH_SNAPSHOT_CHUNK=3 and more than 3 assignments exist by now.
    expect(watch.received.filter((m) => m.change?.$case === 'snapshot').length).toBeGreaterThan(1);

    const moved = await cas(existing, shardB.shardId, 1, 'migration');
    const placed = aConversation();
    await cas(placed, shardA.shardId, 0);
    await waitFor(() => watch.received.filter((m) => m.change?.$case === 'upserted').length >= 2, {
      description: 'two upserted assignments',
    });
    await watch.stop();
    const upserted = watch.received.flatMap((m) =>
      m.change?.$case === 'upserted' ? [m.change.value] : [],
    );
    expect(upserted).toEqual([
      moved.current,
      expect.objectContaining({ conversationId: placed, version: 1 }),
    ]);
  });

  it('lists a shard’s assignments page by page', async () => {
    const listed = aShard({ pool: 'pool-assign' });
    await fixture.client.registerShard({ shard: listed });
    const conversations = Array.from({ length: 7 }, aConversation);
    for (const conversationId of conversations) await cas(conversationId, listed.shardId, 0);

    const seen: string[] = [];
    let pageToken = '';
    let pages = 0;
    do {
      const page = await fixture.client.listAssignments({
        shardId: listed.shardId,
        pageSize: 3,
        pageToken,
      });
      seen.push(...page.assignments.map((a) => a.conversationId));
      expect(page.assignments.every((a) => a.shardId === listed.shardId)).toBe(true);
      pageToken = page.nextPageToken;
      pages++;
    } while (pageToken !== '' && pages < 10);
    expect(seen).toEqual([...conversations].sort());
    expect(pages).toBe(3);
  });

  it('keeps shards and assignments across a restart', async () => {
    const conversationId = aConversation();
    const { current } = await cas(conversationId, shardA.shardId, 0);
    await fixture.client.drainShard({ shardId: shardB.shardId, reason: 'before restart' });

    await fixture.restart();

    const { shards } = await fixture.client.listShards({
      pool: 'pool-assign',
      includeRemoved: false,
    });
    expect(shards.find((s) => s.shardId === shardA.shardId)?.state).toBe(
      shard.ShardState.SHARD_STATE_READY,
    );
    expect(shards.find((s) => s.shardId === shardB.shardId)?.state).toBe(
      shard.ShardState.SHARD_STATE_DRAINING,
    );
    expect((await fixture.client.getAssignment({ conversationId })).assignment).toEqual(current);

    // A router that restarts rebuilds its view from the watch.
    const watch = collect((signal) =>
      fixture.client.watchAssignments({}, { signal, deadline: 60_000 }),
    );
    await waitFor(
      () => watch.received.some((m) => m.change?.$case === 'snapshot' && m.change.value.complete),
      {
        description: 'the complete snapshot after the restart',
      },
    );
    await watch.stop();
    const snapshot = watch.received.flatMap((m) =>
      m.change?.$case === 'snapshot' ? m.change.value.assignments : [],
    );
    expect(snapshot).toContainEqual(current);
    // And compare-and-set continues from the stored version.
    expect((await cas(conversationId, shardA.shardId, 1, 'after restart')).current?.version).toBe(
      2,
    );
  });

  describe('bad input', () => {
    async function failureOf(call: Promise<unknown>): Promise<DomainError> {
      try {
        await call;
      } catch (error) {
        return error as DomainError;
      }
      throw new Error('expected the call to fail');
    }

    it.each([
      ['conversation_id', () => cas('', shardA.shardId, 0)],
      ['shard_id', () => cas(aConversation(), '', 0)],
    ])(
      'CompareAndSetAssignment with an empty %s is INVALID_ARGUMENT naming it',
      async (field, call) => {
        const error = await failureOf(call());
        expect(error.details).toMatchObject({ grpcStatus: 'INVALID_ARGUMENT', field });
        expect(error.message).toContain(field);
      },
    );

    it('CompareAndSetAssignment to an unknown shard is NOT_FOUND', async () => {
      const error = await failureOf(cas(aConversation(), 'no-such-shard', 0));
      expect(error).toMatchObject({
        code: 'SHARD.NOT_FOUND',
        details: { grpcStatus: 'NOT_FOUND', field: 'shard_id' },
      });
    });

    it('GetAssignment with an empty conversation_id is INVALID_ARGUMENT', async () => {
      const error = await failureOf(fixture.client.getAssignment({ conversationId: '' }));
      expect(error.details).toMatchObject({
        grpcStatus: 'INVALID_ARGUMENT',
        field: 'conversation_id',
      });
    });

    it('ListAssignments with a page token it never issued is INVALID_ARGUMENT naming page_token', async () => {
      const error = await failureOf(
        fixture.client.listAssignments({ shardId: shardA.shardId, pageSize: 2, pageToken: '%%%' }),
      );
      expect(error.details).toMatchObject({ grpcStatus: 'INVALID_ARGUMENT', field: 'page_token' });
    });

    it('GetAssignment of a conversation never placed answers without an assignment', async () => {
      expect(
        (await fixture.client.getAssignment({ conversationId: aConversation() })).assignment,
      ).toBeUndefined();
    });
  });
});
