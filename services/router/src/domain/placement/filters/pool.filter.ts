import type { Filter, PlacementContext } from '../policy.js';
import type { ShardView } from '../shard-view.js';
import { keepWhere } from './keep-where.js';

/** Keeps shards in the pools the model routes to (its canary split); no pools means any. */
export const poolFilter: Filter = {
  name: 'pool',
  filter: (shards, context) =>
    context.pools.size === 0 ? shards : keepWhere(shards, context, isInPools),
};

function isInPools(shard: ShardView, context: PlacementContext): boolean {
  return context.pools.has(shard.pool);
}
