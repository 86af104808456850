import type { Filter } from '../policy.js';

/**
 * Admission: keeps shards with a free stream slot (in-flight below their bound). When none has one
 * it keeps them all, because a full plane is handled by the per-shard deadline-aware queues, which
 * can refuse with an honest retry hint; an empty candidate set here could not.
 */
export const hasHeadroomFilter: Filter = {
  name: 'has-headroom',
  filter: (shards) => {
    const free = shards.filter((shard) => shard.load.inFlight < shard.capacity.maxInFlight);
    return free.length > 0 ? free : shards;
  },
};
