import { breaksBudget } from '../../spill/spill-check.js';
import type { Filter } from '../policy.js';

/**
 * Keeps shards where the turn's predicted first token (queue wait plus prefill of what the shard has
 * not cached) fits its budget. Hard: spill uses it to find "another shard that would not break the
 * budget", and finding none means staying put.
 */
export const fitsLatencyBudgetFilter: Filter = {
  name: 'fits-latency-budget',
  filter: (shards, context) =>
    shards.filter((shard) => !breaksBudget(context.predictedLatency(shard), context.budgetMs)),
};
