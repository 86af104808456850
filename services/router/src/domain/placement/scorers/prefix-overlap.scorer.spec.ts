import { aShard } from '../../testing/factories.js';
import { aContext } from '../../testing/context.js';
import { prefixOverlapScorer } from './prefix-overlap.scorer.js';

describe('prefix-overlap scorer', () => {
  const prompt = [11, 12, 13, 14, 15, 16, 17, 18];

  it('is the fraction of the prompt leading blocks the shard recently served', () => {
    const shard = aShard({ blocks: [11, 12, 13, 14, 15, 16] });
    expect(prefixOverlapScorer.score(shard, aContext({ promptBlocks: prompt }))).toBe(6 / 8);
  });

  it('counts a leading prefix only: a shared block after a divergence does not count', () => {
    // Chained hashes cannot share a deeper block after diverging, so a different chain shares none.
    const otherChain = aShard({ blocks: [11, 12, 90, 91, 92] });
    expect(prefixOverlapScorer.score(otherChain, aContext({ promptBlocks: prompt }))).toBe(2 / 8);
  });

  it('is 1 for a shard holding the whole prompt and 0 for a cold one', () => {
    expect(
      prefixOverlapScorer.score(aShard({ blocks: prompt }), aContext({ promptBlocks: prompt })),
    ).toBe(1);
    expect(
      prefixOverlapScorer.score(aShard({ blocks: [] }), aContext({ promptBlocks: prompt })),
    ).toBe(0);
  });

  it('is 0 for a prompt shorter than one block', () => {
    expect(
      prefixOverlapScorer.score(aShard({ blocks: [11] }), aContext({ promptBlocks: [] })),
    ).toBe(0);
  });

  it("bounds its score from above without looking the shard's blocks up, before a walk exactly", () => {
    const shard = aShard({ blocks: [11, 12, 13] });
    const context = aContext({ promptBlocks: prompt });
    expect(prefixOverlapScorer.bound!(shard, context)).toBe(3 / 8);
    expect(prefixOverlapScorer.bound!(shard, aContext({ promptBlocks: [] }))).toBe(0);
  });
});
