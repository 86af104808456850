import { KvBlockPool } from './kv-block-pool.js';

describe('KvBlockPool', () => {
  it('accounts blocks: allocate takes, release returns, all or nothing', () => {
    const pool = new KvBlockPool(8, 16);
    const a = pool.allocate(5)!;
    expect(a).toHaveLength(5);
    expect(pool.usedBlocks).toBe(5);
    expect(pool.usage).toBeCloseTo(5 / 8);
    expect(pool.allocate(4)).toBeUndefined();
    expect(pool.usedBlocks).toBe(5);
    pool.release(a);
    expect(pool.usedBlocks).toBe(0);
    expect(pool.freeBlocks).toBe(8);
  });

  it('keeps a full block findable by hash after release, until evicted', () => {
    const pool = new KvBlockPool(2, 16);
    const [block] = pool.allocate(1)!;
    pool.markFull(block!, 42);
    pool.release([block!]);
    expect(pool.lookup(42)).toBe(block);
    expect(pool.freeBlocks).toBe(2);
    pool.allocate(1); // takes the clean block first
    expect(pool.lookup(42)).toBe(block);
    pool.allocate(1); // now the cached one must go
    expect(pool.lookup(42)).toBeUndefined();
    expect(pool.evictedBlocks).toBe(1);
  });

  it('evicts the least recently freed cached block first, tail of a sequence before its head', () => {
    const pool = new KvBlockPool(4, 16);
    const seqA = pool.allocate(2)!;
    const seqB = pool.allocate(2)!;
    [...seqA, ...seqB].forEach((block, i) => pool.markFull(block, 100 + i));
    pool.release(seqA); // A freed first: evicted first, its tail (hash 101) before its head (100)
    pool.release(seqB);
    pool.allocate(1);
    expect(pool.lookup(101)).toBeUndefined();
    expect(pool.lookup(100)).toBeDefined();
    pool.allocate(1);
    expect(pool.lookup(100)).toBeUndefined();
    expect(pool.lookup(102)).toBeDefined();
  });

  it('protects a cached block from eviction while a hit holds it', () => {
    const pool = new KvBlockPool(2, 16);
    const [block] = pool.allocate(1)!;
    pool.markFull(block!, 7);
    pool.release([block!]);
    pool.acquireCached(block!);
    expect(pool.refCountOf(block!)).toBe(1);
    expect(pool.freeBlocks).toBe(1);
    expect(pool.allocate(2)).toBeUndefined();
    pool.allocate(1);
    expect(pool.lookup(7)).toBe(block);
  });

  it('shares a cached block between sequences by reference count', () => {
    const pool = new KvBlockPool(4, 16);
    const [block] = pool.allocate(1)!;
    pool.markFull(block!, 9);
    pool.acquireCached(block!);
    expect(pool.refCountOf(block!)).toBe(2);
    pool.release([block!]);
    expect(pool.usedBlocks).toBe(1);
    pool.release([block!]);
    expect(pool.usedBlocks).toBe(0);
    expect(() => pool.release([block!])).toThrow(/released more often/);
  });
});
