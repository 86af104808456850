import { breaksBudget } from '../../spill/spill-check.js';
import type { Filter, PlacementContext } from '../policy.js';
import type { ShardView } from '../shard-view.js';
import { keepWhere } from './keep-where.js';

/**
 * Keeps shards where the turn's predicted first token (queue wait plus prefill of what the shard has
 * not cached) fits its budget. Hard: spill uses it to find "another shard that would not break the
 * budget", and finding none means staying put.
 */
export const fitsLatencyBudgetFilter: Filter = {
  name: 'fits-latency-budget',
  filter: (shards, context) => keepWhere(shards, context, fitsBudget),
};

function fitsBudget(shard: ShardView, context: PlacementContext): boolean {
  // The bound first: most shards a spill looks at are rejected without a cache lookup.
  if (context.leastTtftMs(shard) > context.budgetMs) return false;
  return !breaksBudget(context.predictedLatency(shard), context.budgetMs);
}
