import { ttftBreaksBudget } from '../../spill/spill-check.js';
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
  // The bounds first: a shard over budget with the most prefix it could hold, or within it with the
  // least, is decided without looking its cache up.
  if (ttftBreaksBudget(context.leastTtftMs(shard), context.budgetMs)) return false;
  if (!ttftBreaksBudget(context.mostTtftMs(shard), context.budgetMs)) return true;
  return !ttftBreaksBudget(context.predictedTtftMs(shard), context.budgetMs);
}
