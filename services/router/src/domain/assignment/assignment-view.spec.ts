import { AssignmentView } from './assignment-view.js';

describe('assignment view', () => {
  it('knows nothing about a conversation never placed', () => {
    const view = new AssignmentView();
    expect(view.get('c-1')).toBeUndefined();
    expect(view.versionOf('c-1')).toBe(0);
    expect(view.shardOf('c-1')).toBeUndefined();
  });

  describe('compare-and-set', () => {
    it('assigns an unassigned conversation when expecting version 0, at version 1', () => {
      const view = new AssignmentView();
      expect(view.compareAndSet('c-1', 0, 'shard-a')).toEqual({
        applied: true,
        current: { conversationId: 'c-1', shardId: 'shard-a', version: 1 },
      });
      expect(view.get('c-1')).toEqual({ conversationId: 'c-1', shardId: 'shard-a', version: 1 });
    });

    it('moves a conversation when the expected version matches and bumps it', () => {
      const view = new AssignmentView();
      view.compareAndSet('c-1', 0, 'shard-a');
      expect(view.compareAndSet('c-1', 1, 'shard-b')).toMatchObject({
        applied: true,
        current: { shardId: 'shard-b', version: 2 },
      });
    });

    it('refuses a stale expectation and returns what is stored', () => {
      const view = new AssignmentView();
      view.compareAndSet('c-1', 0, 'shard-a');
      view.compareAndSet('c-1', 1, 'shard-b');

      expect(view.compareAndSet('c-1', 1, 'shard-c')).toEqual({
        applied: false,
        current: { conversationId: 'c-1', shardId: 'shard-b', version: 2 },
      });
      expect(view.compareAndSet('c-2', 3, 'shard-c')).toEqual({
        applied: false,
        current: undefined,
      });
    });
  });

  describe('remote updates', () => {
    it('applies a newer version and ignores an older or equal one', () => {
      const view = new AssignmentView();
      expect(view.applyRemote({ conversationId: 'c-1', shardId: 'shard-b', version: 5 })).toBe(
        true,
      );
      expect(view.applyRemote({ conversationId: 'c-1', shardId: 'shard-a', version: 4 })).toBe(
        false,
      );
      expect(view.applyRemote({ conversationId: 'c-1', shardId: 'shard-z', version: 5 })).toBe(
        false,
      );
      expect(view.get('c-1')).toEqual({ conversationId: 'c-1', shardId: 'shard-b', version: 5 });
    });

    it('converges whatever order a watch delivers the same updates in', () => {
      const updates = [1, 2, 3, 4].map((version) => ({
        conversationId: 'c-1',
        shardId: `shard-${version}`,
        version,
      }));
      const inOrder = new AssignmentView();
      const shuffled = new AssignmentView();
      updates.forEach((u) => inOrder.applyRemote(u));
      [updates[2]!, updates[0]!, updates[3]!, updates[1]!].forEach((u) => shuffled.applyRemote(u));
      expect(shuffled.get('c-1')).toEqual(inOrder.get('c-1'));
    });
  });

  it('counts and lists the conversations pinned to a shard', () => {
    const view = new AssignmentView();
    view.compareAndSet('c-1', 0, 'shard-a');
    view.compareAndSet('c-2', 0, 'shard-a');
    view.compareAndSet('c-3', 0, 'shard-b');
    view.compareAndSet('c-2', 1, 'shard-b');

    expect(view.pinnedCount('shard-a')).toBe(1);
    expect(view.pinnedCount('shard-b')).toBe(2);
    expect(view.conversationsOn('shard-b').sort()).toEqual(['c-2', 'c-3']);
    expect(view.conversationsOn('unknown')).toEqual([]);
  });

  it('forgets a closed conversation and reuses its slot', () => {
    const view = new AssignmentView();
    view.compareAndSet('c-1', 0, 'shard-a');
    expect(view.remove('c-1')).toBe(true);
    expect(view.remove('c-1')).toBe(false);
    expect(view.get('c-1')).toBeUndefined();
    expect(view.pinnedCount('shard-a')).toBe(0);

    view.compareAndSet('c-2', 0, 'shard-b');
    expect(view.get('c-2')).toEqual({ conversationId: 'c-2', shardId: 'shard-b', version: 1 });
    expect(view.size).toBe(1);
  });

  it('grows past its initial capacity and past 65,535 shards without losing entries', () => {
    const view = new AssignmentView(4);
    for (let i = 0; i < 70_000; i++)
      view.applyRemote({ conversationId: `c-${i}`, shardId: `shard-${i}`, version: 1 + (i % 3) });
    expect(view.size).toBe(70_000);
    expect(view.get('c-3')).toEqual({ conversationId: 'c-3', shardId: 'shard-3', version: 1 });
    expect(view.get('c-69999')).toEqual({
      conversationId: 'c-69999',
      shardId: 'shard-69999',
      version: 1,
    });
    expect(view.get('c-66000')).toEqual({
      conversationId: 'c-66000',
      shardId: 'shard-66000',
      version: 1,
    });
  });
});
