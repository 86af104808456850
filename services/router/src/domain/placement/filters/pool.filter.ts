import type { Filter } from '../policy.js';

/** Keeps shards in the pools the model routes to (its canary split); no pools means any. */
export const poolFilter: Filter = {
  name: 'pool',
  filter: (shards, context) =>
    context.pools.size === 0 ? shards : shards.filter((shard) => context.pools.has(shard.pool)),
};
