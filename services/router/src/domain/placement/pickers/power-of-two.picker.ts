import { randomIndex, type Random } from '../../random.js';
import type { Picker, ScoredShard } from '../policy.js';

/**
 * Power of two choices: two distinct candidates drawn at random (from the `topK` best, or from all
 * when topK is 0), the better one wins. Near-optimal balance without herding every router replica
 * onto the single best-looking shard from the same stale load reports.
 */
export function powerOfTwoPicker(random: Random, topK = 0): Picker {
  return {
    name: 'power-of-two',
    pick: (scored) => {
      if (scored.length <= 1) return scored[0];
      const pool = topK > 0 && topK < scored.length ? best(scored, topK) : scored;
      const first = randomIndex(random, pool.length);
      let second = randomIndex(random, pool.length - 1);
      if (second >= first) second += 1;
      const a = pool[first];
      const b = pool[second];
      if (a === undefined || b === undefined) return a ?? b;
      return b.score > a.score ? b : a;
    },
  };
}

function best(scored: readonly ScoredShard[], k: number): readonly ScoredShard[] {
  return [...scored]
    .sort((x, y) => y.score - x.score || (x.shard.id < y.shard.id ? -1 : 1))
    .slice(0, k);
}
