import type { Filter } from '../policy.js';
import type { ShardView } from '../shard-view.js';
import { keepWhere } from './keep-where.js';

/**
 * Admission: keeps shards with a free stream slot (in-flight below their bound). When none has one
 * it keeps them all, because a full plane is handled by the per-shard deadline-aware queues, which
 * can refuse with an honest retry hint; an empty candidate set here could not.
 */
export const hasHeadroomFilter: Filter = {
  name: 'has-headroom',
  filter: (shards) => {
    const free = keepWhere(shards, undefined, hasFreeSlot);
    return free.length > 0 ? free : shards;
  },
};

function hasFreeSlot(shard: ShardView): boolean {
  return shard.load.inFlight < shard.capacity.maxInFlight;
}
