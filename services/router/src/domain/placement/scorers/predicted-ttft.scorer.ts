import type { Scorer } from '../policy.js';

/**
 * The share of the turn's budget its predicted first token leaves on the shard: 1 when it would
 * start at once with nothing to prefill, 0 at or past the budget. Unlike the load scorers, it
 * reads the router's live counts (its own streams and their prefill still ahead) and the turn's own
 * uncached prefill, so new conversations spread their prefill work instead of piling onto the
 * shard whose last report happened to look idle, and fewer of the conversations already there
 * have to spill later.
 */
export const predictedTtftScorer: Scorer = {
  name: 'predicted-ttft',
  score: (shard, context) => {
    if (!(context.budgetMs > 0)) return 0;
    return 1 - context.predictedTtftMs(shard) / context.budgetMs;
  },
  bound: (shard, context) => {
    if (!(context.budgetMs > 0)) return 0;
    return 1 - context.leastTtftMs(shard) / context.budgetMs;
  },
};
