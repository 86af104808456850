import type { Scorer } from '../policy.js';

/**
 * The fraction of the prompt's leading blocks the shard recently served: the share of prefill a
 * prefix cache there would skip (see prefix-match.ts for why the deepest held block is the match).
 */
export const prefixOverlapScorer: Scorer = {
  name: 'prefix-overlap',
  score: (shard, context) => {
    const blocks = context.request.promptBlocks.length;
    return blocks === 0 ? 0 : context.prefixBlocksOn(shard) / blocks;
  },
  bound: (shard, context) => {
    const blocks = context.request.promptBlocks.length;
    return blocks === 0 ? 0 : context.prefixBlocksAtMost(shard) / blocks;
  },
};
