import type { Scorer } from '../policy.js';

/** 1 for the shard the conversation is pinned to: it holds the conversation's KV prefix. */
export const affinityScorer: Scorer = {
  name: 'affinity',
  score: (shard, context) => (shard.id === context.request.assignedShardId ? 1 : 0),
};
