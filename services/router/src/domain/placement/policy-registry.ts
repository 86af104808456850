import type { Random } from '../random.js';
import { fitsLatencyBudgetFilter } from './filters/fits-latency-budget.filter.js';
import { hasHeadroomFilter } from './filters/has-headroom.filter.js';
import { healthyFilter } from './filters/healthy.filter.js';
import { poolFilter } from './filters/pool.filter.js';
import { sameZoneFirstFilter } from './filters/same-zone-first.filter.js';
import { maxScorePicker } from './pickers/max-score.picker.js';
import { powerOfTwoPicker } from './pickers/power-of-two.picker.js';
import { weightedRandomPicker } from './pickers/weighted-random.picker.js';
import type { FilterName, PickerConfig, ScorerName } from './placement-config.js';
import type { Filter, Picker, Scorer } from './policy.js';
import { affinityScorer } from './scorers/affinity.scorer.js';
import { headroomScorer } from './scorers/headroom.scorer.js';
import { leastLoadScorer } from './scorers/least-load.scorer.js';
import { predictedTtftScorer } from './scorers/predicted-ttft.scorer.js';
import { prefixOverlapScorer } from './scorers/prefix-overlap.scorer.js';
import { zoneScorer } from './scorers/zone.scorer.js';

/** Configuration names → policies. A new policy file adds one line here. */
export const FILTERS: Readonly<Record<FilterName, Filter>> = {
  healthy: healthyFilter,
  pool: poolFilter,
  'has-headroom': hasHeadroomFilter,
  'same-zone-first': sameZoneFirstFilter,
  'fits-latency-budget': fitsLatencyBudgetFilter,
};

export const SCORERS: Readonly<Record<ScorerName, Scorer>> = {
  affinity: affinityScorer,
  'prefix-overlap': prefixOverlapScorer,
  'least-load': leastLoadScorer,
  headroom: headroomScorer,
  zone: zoneScorer,
  'predicted-ttft': predictedTtftScorer,
};

export function createPicker(config: PickerConfig, random: Random): Picker {
  switch (config.kind) {
    case 'max-score':
      return maxScorePicker;
    case 'power-of-two':
      return powerOfTwoPicker(random, config.topK);
    case 'weighted-random':
      return weightedRandomPicker(random);
    default: {
      const unknown: never = config;
      throw new Error(`unknown picker ${JSON.stringify(unknown)}`);
    }
  }
}
