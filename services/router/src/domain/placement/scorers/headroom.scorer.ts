import type { Scorer } from '../policy.js';

/** The fraction of the shard's stream slots still free (engine-queued turns hold slots too). */
export const headroomScorer: Scorer = {
  name: 'headroom',
  score: (shard) => {
    const slots = Math.max(1, shard.capacity.maxInFlight);
    const busy = Math.max(shard.load.inFlight, shard.load.running + shard.load.waiting);
    return Math.max(0, slots - busy) / slots;
  },
};
