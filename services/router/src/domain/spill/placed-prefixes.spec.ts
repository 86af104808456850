import { aShard } from '../testing/factories.js';
import { DEFAULT_LATENCY_MODEL } from './latency-model.js';
import { PlacedPrefixes, withCachedPrefix } from './placed-prefixes.js';

describe('placed prefixes', () => {
  it('knows a shard holds the prompt it was sent, for the prompts that extend it', () => {
    const prefixes = new PlacedPrefixes();
    prefixes.record('c-1', 'a', [11, 12, 13]);

    expect(prefixes.heldOn('c-1', 'a', [11, 12, 13, 14, 15])).toBe(3);
    expect(prefixes.heldOn('c-1', 'a', [11, 12, 13])).toBe(3);
    // Another shard, a shorter prompt, or one that parts from it (chained hashes differ from there).
    expect(prefixes.heldOn('c-1', 'b', [11, 12, 13, 14])).toBe(0);
    expect(prefixes.heldOn('c-2', 'a', [11, 12, 13])).toBe(0);
    // A shorter prompt, or one that parts from it: as deep as the sketch still matches.
    expect(prefixes.heldOn('c-1', 'a', [11, 12])).toBe(2);
    expect(prefixes.heldOn('c-1', 'a', [11, 12, 99, 14])).toBe(2);
    expect(prefixes.heldOn('c-1', 'a', [98, 99])).toBe(0);
  });

  it('finds where a long prompt parts from the one sent before, to within the sketch’s gaps', () => {
    const prefixes = new PlacedPrefixes();
    const sent = Array.from({ length: 1_000 }, (_, i) => i + 1);
    prefixes.record('c-1', 'a', sent);
    // The next prompt keeps the first 997 blocks, then goes its own way (a chat template's tail).
    const next = [...sent.slice(0, 997), -1, -2, -3, -4, -5];
    // Sketched depths: 999, 998, 996, 992, 984, …: the deepest shared one is 996.
    expect(prefixes.heldOn('c-1', 'a', next)).toBe(997);
  });

  it('keeps the latest placement per conversation, and forgets the least recent past its capacity', () => {
    const prefixes = new PlacedPrefixes(2);
    prefixes.record('c-1', 'a', [1, 2]);
    prefixes.record('c-1', 'b', [1, 2, 3]);
    expect(prefixes.heldOn('c-1', 'a', [1, 2, 3])).toBe(0);
    expect(prefixes.heldOn('c-1', 'b', [1, 2, 3])).toBe(3);

    prefixes.record('c-2', 'a', [5]);
    prefixes.record('c-1', 'b', [1, 2, 3, 4]);
    prefixes.record('c-3', 'a', [7]);
    expect(prefixes.size).toBe(2);
    expect(prefixes.heldOn('c-2', 'a', [5])).toBe(0);
    expect(prefixes.heldOn('c-1', 'b', [1, 2, 3, 4])).toBe(4);
    expect(() => new PlacedPrefixes(0)).toThrow(RangeError);
  });

  it('shortens a prediction’s prefill to what the shard lacks, never lengthens it', () => {
    const shard = aShard({ capacity: { maxInFlight: 4, kvCapacityTokens: 1 } });
    const latency = { ...DEFAULT_LATENCY_MODEL, defaultPrefillTokensPerSecond: 10_000 };
    const cold = { queueWaitMs: 1_900, prefillMs: 1_600, ttftMs: 3_500 };

    // 999 of 1,000 blocks of 16 tokens held: 16 tokens to prefill.
    expect(withCachedPrefix(shard, 16_000, cold, 999, latency)).toEqual({
      queueWaitMs: 1_900,
      prefillMs: 1.6,
      ttftMs: 1_901.6,
    });
    const warm = { queueWaitMs: 1_900, prefillMs: 1.6, ttftMs: 1_901.6 };
    expect(withCachedPrefix(shard, 16_000, warm, 10, latency)).toBe(warm);
    expect(withCachedPrefix(shard, 16_000, cold, 0, latency)).toBe(cold);
  });
});
