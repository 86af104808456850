import { BlockSet, onBlockSample } from '../prefix/block-set.js';
import { aShard } from '../testing/factories.js';
import { heldPrefixBlocks, PrefixMatch } from './prefix-match.js';

describe('prefix match', () => {
  const prompt = Array.from({ length: 1_000 }, (_, i) => 10_000 + i);

  it.each([0, 1, 2, 3, 17, 499, 500, 998, 999, 1_000])(
    'finds a held leading run of %i blocks exactly',
    (held) => {
      expect(heldPrefixBlocks(BlockSet.of(prompt.slice(0, held)), prompt)).toBe(held);
    },
  );

  it.each([0, 1, 7, 8, 9, 100, 640, 999, 1_000])(
    'with 1-in-8 sampled sets, finds %i held blocks to the deepest sampled one, never more',
    (held) => {
      const set = BlockSet.of(prompt.slice(0, held), 8);
      let deepestSampled = -1;
      for (let i = 0; i < held; i++) if (onBlockSample(prompt[i]!, 8)) deepestSampled = i;

      expect(heldPrefixBlocks(set, prompt)).toBe(deepestSampled + 1);
    },
  );

  it('probes the deepest block first, then at doubling gaps, always ending at block 0', () => {
    expect(PrefixMatch.probes(20)).toEqual([19, 18, 16, 12, 4, 0]);
    expect(PrefixMatch.probes(1)).toEqual([0]);
    expect(PrefixMatch.probes(0)).toEqual([]);
  });

  it('is exact for a shard looked at before any walk, and keeps that answer', () => {
    const match = new PrefixMatch(prompt);
    const shard = aShard({ id: 'home', blocks: prompt.slice(0, 977) });
    expect(match.blocksOn(shard)).toBe(977);
    match.record('home', 3);
    expect(match.blocksOn(shard)).toBe(977);
  });

  it('after a walk, takes the deepest of the recorded probe and the deferred probes the shard holds', () => {
    const match = new PrefixMatch(prompt);
    match.defer(500);
    match.record('recorded-shallow', 10);
    match.defer(0);

    expect(match.blocksOn(aShard({ id: 'recorded-shallow', blocks: prompt.slice(0, 600) }))).toBe(
      501,
    );
    expect(match.blocksOn(aShard({ id: 'unrecorded', blocks: prompt.slice(0, 5) }))).toBe(1);
    expect(match.blocksOn(aShard({ id: 'cold', blocks: [] }))).toBe(0);
  });
});
