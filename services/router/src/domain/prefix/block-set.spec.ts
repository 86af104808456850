import { BlockSet, onBlockSample } from './block-set.js';

describe('block set', () => {
  it('holds exactly the hashes it was built from, including 0 and 53-bit values', () => {
    const hashes = [0, 1, 2, 3, 2 ** 53 - 1, 4_294_967_296, 123_456_789_012_345];
    const set = BlockSet.of(hashes);

    for (const hash of hashes) expect(set.has(hash)).toBe(true);
    expect(set.has(4)).toBe(false);
    expect(set.has(2 ** 52)).toBe(false);
    expect(set.size).toBe(hashes.length);
    expect(set.toArray().sort((a, b) => a - b)).toEqual([...hashes].sort((a, b) => a - b));
  });

  it('counts duplicates once', () => {
    expect(BlockSet.of([5, 5, 6]).size).toBe(2);
  });

  it('answers for many sequential ids (trace block ids are small and consecutive)', () => {
    const ids = Array.from({ length: 5_000 }, (_, i) => i + 1);
    const set = BlockSet.of(ids);
    expect(ids.every((id) => set.has(id))).toBe(true);
    expect(set.has(5_001)).toBe(false);
  });

  it('keeps about one hash in K when sampling, and exactly the ones on the sample', () => {
    const ids = Array.from({ length: 8_000 }, (_, i) => 1_000_000 + i * 7);
    const set = BlockSet.of(ids, 8);

    expect(set.size).toBeGreaterThan(850);
    expect(set.size).toBeLessThan(1_150);
    expect(ids.every((id) => set.has(id) === onBlockSample(id, 8))).toBe(true);
    expect(set.sampleEvery).toBe(8);
  });

  it('recognises the list it was built from', () => {
    const set = BlockSet.of([3, 2, 1]);
    expect(set.isBuiltFrom([3, 2, 1])).toBe(true);
    expect(set.isBuiltFrom([1, 2, 3])).toBe(false);
    expect(set.isBuiltFrom([3, 2])).toBe(false);
  });

  it('rejects a sampling rate that is not a power of two', () => {
    expect(() => BlockSet.of([1], 6)).toThrow(RangeError);
  });

  it('is empty when built from nothing', () => {
    expect(BlockSet.of([]).has(1)).toBe(false);
    expect(BlockSet.EMPTY.size).toBe(0);
  });
});
