import { hash53, unitHash } from './hash53.js';
import { cachedPrefixTokens, prefixBlockHashes, type BlockHashing } from './prefix-blocks.js';

// A stand-in for gpu-sim's chainBlockHash: the router takes the function, it does not define it.
const hashing: BlockHashing = {
  blockTokens: 4,
  rootHash: 7,
  chain: (parent, tokens, start, end) =>
    hash53(Array.from({ length: end - start }, (_, i) => tokens[start + i]).join(','), parent),
};

describe('prefix block hashes', () => {
  it('hashes every full block and leaves a partial tail out', () => {
    expect(prefixBlockHashes([1, 2, 3, 4, 5, 6, 7, 8, 9], hashing)).toHaveLength(2);
    expect(prefixBlockHashes([1, 2, 3], hashing)).toEqual([]);
  });

  it('chains: equal prefixes give equal hashes, and a change changes every later block', () => {
    const turn1 = prefixBlockHashes([1, 2, 3, 4, 5, 6, 7, 8], hashing);
    const turn2 = prefixBlockHashes([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], hashing);
    const edited = prefixBlockHashes([0, 2, 3, 4, 5, 6, 7, 8], hashing);

    expect(turn2.slice(0, 2)).toEqual(turn1);
    expect(edited[0]).not.toBe(turn1[0]);
    expect(edited[1]).not.toBe(turn1[1]);
  });

  it('starts the chain from the configured root, as the shards do', () => {
    const other = prefixBlockHashes([1, 2, 3, 4], { ...hashing, rootHash: 8 });
    expect(other).not.toEqual(prefixBlockHashes([1, 2, 3, 4], hashing));
  });

  it('rejects a block size that is not a positive integer', () => {
    expect(() => prefixBlockHashes([1], { ...hashing, blockTokens: 0 })).toThrow(RangeError);
  });

  it('turns matched blocks into cached tokens, capped at the prompt', () => {
    expect(cachedPrefixTokens(3, 100, 16)).toBe(48);
    expect(cachedPrefixTokens(10, 100, 16)).toBe(100);
  });
});

describe('hash53', () => {
  it('is stable and seed-dependent', () => {
    expect(hash53('conversation-1')).toBe(hash53('conversation-1'));
    expect(hash53('conversation-1', 1)).not.toBe(hash53('conversation-1', 2));
    expect(Number.isSafeInteger(hash53('x'))).toBe(true);
  });

  it('maps keys uniformly into [0, 1)', () => {
    const values = Array.from({ length: 10_000 }, (_, i) => unitHash(`key-${i}`));
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    const below = values.filter((v) => v < 0.25).length / values.length;
    expect(below).toBeGreaterThan(0.23);
    expect(below).toBeLessThan(0.27);
  });
});
