import { hash53 } from '../../prefix/hash53.js';
import type { Picker, ScoredShard } from '../policy.js';

const TIE = 1e-9;

/**
 * The highest score. Ties go to the shard with the highest rendezvous hash of (conversation, shard):
 * deterministic for a conversation, yet spread across conversations, so a plane of idle shards does
 * not send every new conversation to the same one.
 */
export const maxScorePicker: Picker = {
  name: 'max-score',
  pick: (scored, context) => {
    let best: ScoredShard | undefined;
    let bestRank = -1;
    // The conversation's half of the rendezvous hash, computed at the first tie only.
    let seed = -1;
    for (const candidate of scored) {
      if (best === undefined || candidate.score > best.score + TIE) {
        best = candidate;
        bestRank = -1;
      } else if (candidate.score >= best.score - TIE) {
        if (seed < 0) seed = hash53(context.request.conversationId);
        if (bestRank < 0) bestRank = hash53(best.shard.id, seed);
        const rank = hash53(candidate.shard.id, seed);
        if (rank > bestRank || (rank === bestRank && candidate.shard.id < best.shard.id)) {
          best = candidate;
          bestRank = rank;
        }
      }
    }
    return best;
  },
  cannotPickBelow: (scored) => {
    // Each tie the scan resolves can leave its best up to TIE below the highest score seen, so the
    // best after k candidates is at least max − k·TIE, and a candidate below best − TIE is passed
    // over. Twice that margin covers rounding; real score gaps are many orders of magnitude wider.
    let max = Number.NEGATIVE_INFINITY;
    for (const candidate of scored) if (candidate.score > max) max = candidate.score;
    return max - 2 * (scored.length + 1) * TIE;
  },
};
