import type { Scorer } from '../policy.js';

/** 1 in the caller's zone (no cross-zone hop for every streamed token), else 0. */
export const zoneScorer: Scorer = {
  name: 'zone',
  score: (shard, context) =>
    context.request.zone !== undefined && shard.zone === context.request.zone ? 1 : 0,
};
