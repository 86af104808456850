import type { Filter } from '../policy.js';

/** Only READY shards take turns: never FAILED, DRAINING, STARTING or REMOVED ones. */
export const healthyFilter: Filter = {
  name: 'healthy',
  filter: (shards) => shards.filter((shard) => shard.state === 'ready'),
};
