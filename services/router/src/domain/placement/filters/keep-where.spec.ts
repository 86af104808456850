import { aShard } from '../../testing/factories.js';
import { keepWhere } from './keep-where.js';

describe('keepWhere', () => {
  const shards = ['a', 'b', 'c', 'd'].map((id) => aShard({ id }));

  it('returns the input itself when every shard is kept (no copy)', () => {
    expect(keepWhere(shards, undefined, () => true)).toBe(shards);
  });

  it('keeps the order of the shards kept, whichever are dropped', () => {
    const ids = (kept: readonly { id: string }[]) => kept.map((s) => s.id);

    expect(ids(keepWhere(shards, 'a', (s, dropped) => s.id !== dropped))).toEqual(['b', 'c', 'd']);
    expect(ids(keepWhere(shards, 'c', (s, dropped) => s.id !== dropped))).toEqual(['a', 'b', 'd']);
    expect(ids(keepWhere(shards, undefined, (s) => s.id === 'b' || s.id === 'd'))).toEqual([
      'b',
      'd',
    ]);
    expect(keepWhere(shards, undefined, () => false)).toEqual([]);
  });
});
