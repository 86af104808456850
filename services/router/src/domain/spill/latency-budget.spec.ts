import { aRequest } from '../testing/factories.js';
import { DEFAULT_TIER_POLICIES, latencyBudgetMs, type TierPolicies } from './latency-budget.js';

describe('latency budget', () => {
  it('is the tier default when the turn carries none', () => {
    expect(latencyBudgetMs(aRequest({ priority: 'critical' }), DEFAULT_TIER_POLICIES)).toBe(500);
    expect(
      latencyBudgetMs(aRequest({ priority: 'standard', ttftBudgetMs: 0 }), DEFAULT_TIER_POLICIES),
    ).toBe(2_000);
  });

  it('scales the turn budget by its tier', () => {
    const tiers: TierPolicies = {
      ...DEFAULT_TIER_POLICIES,
      low: { defaultTtftBudgetMs: 5_000, budgetScale: 2, maySpill: true },
    };
    expect(latencyBudgetMs(aRequest({ priority: 'low', ttftBudgetMs: 800 }), tiers)).toBe(1_600);
    expect(latencyBudgetMs(aRequest({ priority: 'high', ttftBudgetMs: 800 }), tiers)).toBe(800);
  });
});
