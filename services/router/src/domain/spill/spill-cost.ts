import type { ShardView } from '../placement/shard-view.js';
import { cachedPrefixTokens } from '../prefix/prefix-blocks.js';
import {
  predictPrefillMs,
  type LatencyModelConfig,
  type LatencyPrediction,
} from './latency-model.js';
import { ttftBreaksBudget } from './spill-check.js';

/**
 * Whether a spill is worth the cache it throws away (ADR 0009). Placement proposes a spill when the
 * conversation's own shard would break the turn's first-token budget and another shard would not;
 * this rule then weighs what the spill buys against what it costs, and keeps the turn home unless
 * the gain is larger.
 *
 * - Gain: how much less late the turn's first token is on the target than at home, full prefill of
 *   what the target lacks included. "Late" is the time past the budget, plus `belowBudgetGainWeight`
 *   of the time within it: the budget is the tier's statement of what wait is acceptable, and spill
 *   exists to keep that promise, not to make a turn faster than it promises.
 * - Cost: the prefill the target does because it lacks context the home shard holds (the recompute),
 *   charged to every turn that waits for it: the target's next turn (whoever it serves next waits
 *   that long longer; on an idle shard, the next to arrive), one more per turn already waiting there
 *   for its first token (by Little's law as many again arrive behind the spilled turn while it
 *   waits), `coldFollowUpTurns` of the conversation's own turns that reach the target before
 *   the prefix does, and `cacheTurns` more for the cache itself: every recomputed token is a miss
 *   of the prefix cache, which is what keeps a conversation's turns cheap (issue 4's hit ratio).
 *
 * Placement proposes a spill from its own view of the home shard's cache, which may miss context the
 * router knows it sent there (PlacedPrefixes); with that counted, home may meet the budget after all,
 * and the turn stays. A turn that would be refused if it stayed (its shard's queue cannot start it
 * by its deadline) spills whatever the cost: a first token late is better than none. Failover and
 * migration, which leave a shard that cannot serve at all, are not spills and never come here.
 */
export interface SpillCostConfig {
  /** Off: every spill placement proposes is taken, as before the rule. */
  readonly enabled: boolean;
  /**
   * What a millisecond saved within the budget is worth next to one saved past it, 0..1. 0: only
   * the budget overrun the spill avoids is gain. 1: all of home minus target.
   */
  readonly belowBudgetGainWeight: number;
  /**
   * Turns of the conversation expected at the target before the spilled turn's prefill has put the
   * prefix there (each recomputes it too). 0 for chat, whose next turn waits for this reply; more
   * for callers that send several turns on one context at once.
   */
  readonly coldFollowUpTurns: number;
  /**
   * The price of the cache the spill throws away, as turns charged the recompute on top of the
   * others: on an idle target a spill must then save its turn `1 + cacheTurns` times its recompute.
   * 0 prices the cache only by the turns that wait for the recompute (session 6's rule).
   */
  readonly cacheTurns: number;
}

export const DEFAULT_SPILL_COST: SpillCostConfig = {
  enabled: true,
  belowBudgetGainWeight: 0,
  coldFollowUpTurns: 0,
  cacheTurns: 5,
};

/** A spill placement proposed, with what the rule needs to weigh it. */
export interface SpillProposal {
  readonly budgetMs: number;
  /**
   * On the conversation's own shard, with the context the router knows it holds (placement may
   * have seen less of it: see PlacedPrefixes).
   */
  readonly home: LatencyPrediction;
  /** On the proposed shard, with the prefill of everything it has not cached. */
  readonly target: LatencyPrediction;
  /** The target's prefill of context the home shard holds and it does not (recomputedPrefill). */
  readonly recomputeMs: number;
  /** Turns on the target waiting for their first token (streams, and the router's queue for it). */
  readonly waitingOnTarget: number;
  /** Staying home would get the turn refused by admission. */
  readonly refusedAtHome: boolean;
}

export type SpillWhy =
  /** The rule is off. */
  | 'rule-off'
  /** Staying home would get the turn refused. */
  | 'refused-at-home'
  /** With what it holds of the context, home meets the budget after all: no spill is needed. */
  | 'home-within-budget'
  | 'gain-exceeds-cost'
  | 'cost-exceeds-gain';

export interface SpillVerdict {
  readonly spill: boolean;
  readonly why: SpillWhy;
  /** Lateness at home minus lateness on the target, ms. */
  readonly gainMs: number;
  /** The recompute times the turns charged for it, ms. */
  readonly costMs: number;
  readonly turnsCharged: number;
}

/**
 * How late a first token at `ttftMs` is: the time past the budget, plus `belowBudgetWeight` of the
 * time within it.
 */
export function lateness(ttftMs: number, budgetMs: number, belowBudgetWeight: number): number {
  const budget = Math.max(0, budgetMs);
  return Math.max(0, ttftMs - budget) + belowBudgetWeight * Math.min(Math.max(0, ttftMs), budget);
}

export function weighSpill(proposal: SpillProposal, config: SpillCostConfig): SpillVerdict {
  const weight = config.belowBudgetGainWeight;
  const gainMs =
    lateness(proposal.home.ttftMs, proposal.budgetMs, weight) -
    lateness(proposal.target.ttftMs, proposal.budgetMs, weight);
  const turnsCharged =
    1 +
    Math.max(0, proposal.waitingOnTarget) +
    Math.max(0, config.coldFollowUpTurns) +
    Math.max(0, config.cacheTurns);
  const costMs = Math.max(0, proposal.recomputeMs) * turnsCharged;
  const why: SpillWhy = !config.enabled
    ? 'rule-off'
    : proposal.refusedAtHome
      ? 'refused-at-home'
      : !ttftBreaksBudget(proposal.home.ttftMs, proposal.budgetMs)
        ? 'home-within-budget'
        : gainMs > costMs
          ? 'gain-exceeds-cost'
          : 'cost-exceeds-gain';
  const spill = why === 'rule-off' || why === 'refused-at-home' || why === 'gain-exceeds-cost';
  return { spill, why, gainMs, costMs, turnsCharged };
}

export interface RecomputedPrefill {
  /** Prompt tokens cached on the home shard and not on the target. */
  readonly tokens: number;
  /** The target's prefill of those tokens, ms: its prefill as it is less its prefill with them. */
  readonly ms: number;
}

/**
 * What moving the turn makes the target compute again: the context the home shard holds beyond
 * what the target holds, at the target's prefill speed (with attention, when the latency model
 * prices it, each of those tokens attends to all before it).
 */
export function recomputedPrefill(
  target: ShardView,
  promptTokens: number,
  homeCachedBlocks: number,
  targetCachedBlocks: number,
  latency: LatencyModelConfig,
): RecomputedPrefill {
  if (homeCachedBlocks <= targetCachedBlocks) return { tokens: 0, ms: 0 };
  const tokens =
    cachedPrefixTokens(homeCachedBlocks, promptTokens, latency.tokensPerBlock) -
    cachedPrefixTokens(targetCachedBlocks, promptTokens, latency.tokensPerBlock);
  const ms =
    predictPrefillMs(target, promptTokens, targetCachedBlocks, latency) -
    predictPrefillMs(target, promptTokens, homeCachedBlocks, latency);
  return { tokens: Math.max(0, tokens), ms: Math.max(0, ms) };
}
