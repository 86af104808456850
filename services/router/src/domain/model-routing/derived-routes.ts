import type { ModelRoute, ModelRouteTable } from '@spillway/model-routes';
import type { ShardDirectory } from '../placement/shard-directory.js';

/**
 * The table when nobody configured one: every model the shards serve, over all of its pools,
 * equally. Every replica watching the same registry derives the same table.
 */
export function deriveModelRoutes(shards: ShardDirectory): ModelRouteTable {
  const pools = new Map<string, Set<string>>();
  for (const shard of shards.all()) {
    if (shard.state === 'removed') continue;
    let set = pools.get(shard.model);
    if (set === undefined) {
      set = new Set();
      pools.set(shard.model, set);
    }
    set.add(shard.pool);
  }
  const models: Record<string, ModelRoute> = {};
  for (const [model, set] of pools)
    models[model] = { pools: [...set].sort().map((pool) => ({ pool, weight: 1 })) };
  return { models };
}
