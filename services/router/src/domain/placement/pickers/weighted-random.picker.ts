import { randomIndex, type Random } from '../../random.js';
import type { Picker } from '../policy.js';

/** A candidate with probability proportional to its score; uniform when every score is 0. */
export function weightedRandomPicker(random: Random): Picker {
  return {
    name: 'weighted-random',
    pick: (scored) => {
      if (scored.length <= 1) return scored[0];
      let total = 0;
      for (const candidate of scored) total += Math.max(0, candidate.score);
      if (total <= 0) return scored[randomIndex(random, scored.length)];
      let target = random.next() * total;
      let last = scored[0];
      for (const candidate of scored) {
        if (candidate.score <= 0) continue;
        last = candidate;
        target -= candidate.score;
        if (target < 0) return candidate;
      }
      // Rounding left a sliver of the total: it belongs to the last candidate with a share.
      return last;
    },
  };
}
