import type { Scorer } from '../policy.js';

/**
 * 1 for an idle shard, 0 for one that is full on every axis: the mean of its engine queue, its
 * running batch (both against the shard's stream bound) and its KV-cache use. Absolute rather than
 * normalized across candidates, so a score means the same thing whichever shards were sampled.
 */
export const leastLoadScorer: Scorer = {
  name: 'least-load',
  score: (shard) => {
    const slots = Math.max(1, shard.capacity.maxInFlight);
    const queue = Math.min(1, shard.load.waiting / slots);
    const running = Math.min(1, shard.load.running / slots);
    const kv = Math.min(1, Math.max(0, shard.load.kvCacheUsage));
    return 1 - (queue + running + kv) / 3;
  },
};
