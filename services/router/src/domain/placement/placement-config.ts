import { DEFAULT_LATENCY_MODEL, type LatencyModelConfig } from '../spill/latency-model.js';
import { DEFAULT_TIER_POLICIES, type TierPolicies } from '../spill/latency-budget.js';

export type FilterName =
  'healthy' | 'pool' | 'has-headroom' | 'same-zone-first' | 'fits-latency-budget';

export type ScorerName =
  'affinity' | 'prefix-overlap' | 'least-load' | 'headroom' | 'zone' | 'predicted-ttft';

export type PickerConfig =
  | { readonly kind: 'max-score' }
  /** topK 0 draws the two from every candidate. */
  | { readonly kind: 'power-of-two'; readonly topK: number }
  | { readonly kind: 'weighted-random' };

/**
 * Which shards get scored at all.
 * - all: every shard of the turn's pools (exact; linear in the pool size);
 * - sampled: the conversation's shard, up to `prefixHolders` shards found through the block index
 *   (deepest match first), and `randomSamples` READY shards of the pools drawn uniformly (from the
 *   caller's zone when the pool has shards there). Power-of-d-choices balance, prefix-aware, and
 *   independent of the pool size.
 */
export type CandidateSelection =
  | { readonly mode: 'all' }
  | { readonly mode: 'sampled'; readonly prefixHolders: number; readonly randomSamples: number };

export interface PlacementConfig {
  /** Applied in order; the tail of the list should be the soft ones. */
  readonly filters: readonly FilterName[];
  /** Weight per scorer; a scorer left out (or weighted 0) is not run. */
  readonly scorers: Readonly<Partial<Record<ScorerName, number>>>;
  readonly picker: PickerConfig;
  readonly candidates: CandidateSelection;
  readonly latency: LatencyModelConfig;
  readonly tiers: TierPolicies;
}

export const DEFAULT_PLACEMENT_CONFIG: PlacementConfig = {
  filters: ['healthy', 'pool', 'has-headroom', 'same-zone-first'],
  scorers: { 'prefix-overlap': 3, 'predicted-ttft': 2, 'least-load': 1, headroom: 1, zone: 1 },
  picker: { kind: 'max-score' },
  candidates: { mode: 'sampled', prefixHolders: 8, randomSamples: 8 },
  latency: DEFAULT_LATENCY_MODEL,
  tiers: DEFAULT_TIER_POLICIES,
};
