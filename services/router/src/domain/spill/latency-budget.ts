import type { PlacementRequest, PriorityTier } from '../placement/placement-request.js';

/** What a priority tier is promised. */
export interface TierPolicy {
  /** TTFT budget when the turn does not carry one. */
  readonly defaultTtftBudgetMs: number;
  /** Scales a budget the turn does carry: above 1 tolerates more wait before spilling. */
  readonly budgetScale: number;
  /**
   * Whether a turn of this tier may leave its conversation's shard to meet the budget. Batch turns
   * would rather wait than throw away their cached prefix.
   */
  readonly maySpill: boolean;
}

export type TierPolicies = Readonly<Record<PriorityTier, TierPolicy>>;

export const DEFAULT_TIER_POLICIES: TierPolicies = {
  critical: { defaultTtftBudgetMs: 500, budgetScale: 1, maySpill: true },
  high: { defaultTtftBudgetMs: 1_000, budgetScale: 1, maySpill: true },
  standard: { defaultTtftBudgetMs: 2_000, budgetScale: 1, maySpill: true },
  low: { defaultTtftBudgetMs: 5_000, budgetScale: 1.5, maySpill: true },
  batch: { defaultTtftBudgetMs: 30_000, budgetScale: 4, maySpill: false },
};

export function latencyBudgetMs(request: PlacementRequest, tiers: TierPolicies): number {
  const tier = tiers[request.priority];
  const asked = request.ttftBudgetMs ?? 0;
  return asked > 0 ? asked * tier.budgetScale : tier.defaultTtftBudgetMs;
}
