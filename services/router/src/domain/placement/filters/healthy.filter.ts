import type { Filter } from '../policy.js';
import type { ShardView } from '../shard-view.js';
import { keepWhere } from './keep-where.js';

/** Only READY shards take turns: never FAILED, DRAINING, STARTING or REMOVED ones. */
export const healthyFilter: Filter = {
  name: 'healthy',
  filter: (shards) => keepWhere(shards, undefined, isReady),
};

function isReady(shard: ShardView): boolean {
  return shard.state === 'ready';
}
