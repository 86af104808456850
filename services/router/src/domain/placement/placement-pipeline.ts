import type { Random } from '../random.js';
import { predictPrefillAtRateMs, type LatencyPrediction } from '../spill/latency-model.js';
import { latencyBudgetMs } from '../spill/latency-budget.js';
import { breaksBudget, ttftBreaksBudget } from '../spill/spill-check.js';
import { fitsLatencyBudgetFilter } from './filters/fits-latency-budget.filter.js';
import { CandidateSet } from './candidate-set.js';
import type { PlacementConfig } from './placement-config.js';
import { DecisionContext, NO_QUEUES, type QueueDepth } from './placement-context.js';
import type { PlacementDecision, PlacementReason } from './placement-decision.js';
import type { PlacementRequest } from './placement-request.js';
import type { Filter, PlacementContext, Picker, ScoredShard, Scorer } from './policy.js';
import { createPicker, FILTERS, SCORERS } from './policy-registry.js';
import { PrefixMatch } from './prefix-match.js';
import type { ShardDirectory } from './shard-directory.js';
import type { ShardView } from './shard-view.js';

interface WeightedScorer {
  readonly scorer: Scorer;
  readonly weight: number;
}

/**
 * Placement for one turn:
 * 1. The conversation's own shard, if it is READY, in the turn's pools and not excluded, keeps the
 *    turn (affinity) unless its predicted first token would break the turn's budget, the tier may
 *    spill, and another shard would fit the budget: then the best of those gets it (spill).
 * 2. Otherwise (no shard yet, or it failed, drains, or left the turn's pools) the best shard gets
 *    it: new, failover or migration.
 * "Best" is: candidates (all of the pools, or a prefix-aware sample) → filters → weighted scorers →
 * picker. Spill ranks with the same scorers; affinity scores 0 there, so prefix overlap, headroom
 * and zone decide, after same-zone-first.
 */
export class PlacementPipeline {
  private readonly filters: readonly Filter[];
  private readonly scorers: readonly WeightedScorer[];
  private readonly totalWeight: number;
  private readonly picker: Picker;
  /** Reused by every decision: decisions are synchronous and never nested. */
  private readonly gathered = new CandidateSet();
  private readonly scored: CandidateScore[] = [];
  private readonly scoredPool: CandidateScore[] = [];
  /** Candidates that reached scoring in the last `choose`, the ones skipped by their bound too. */
  private scoredCount = 0;
  private lastPools: readonly string[] = [];
  private lastPoolSet: ReadonlySet<string> = new Set();

  constructor(
    private readonly config: PlacementConfig,
    private readonly random: Random,
  ) {
    this.filters = config.filters.map((name) => FILTERS[name]);
    this.scorers = Object.entries(config.scorers)
      .filter(([, weight]) => weight !== undefined && weight > 0)
      .map(([name, weight]) => ({
        scorer: SCORERS[name as keyof typeof SCORERS],
        weight: weight ?? 0,
      }));
    this.totalWeight = this.scorers.reduce((sum, { weight }) => sum + weight, 0);
    this.picker = createPicker(config.picker, random);
  }

  decide(
    request: PlacementRequest,
    shards: ShardDirectory,
    nowMs: number,
    queues: QueueDepth = NO_QUEUES,
  ): PlacementDecision {
    const budgetMs = latencyBudgetMs(request, this.config.tiers);
    const match = new PrefixMatch(request.promptBlocks);
    const context = new DecisionContext(
      request,
      nowMs,
      budgetMs,
      match,
      this.config.latency,
      queues,
      this.poolSet(request.pools),
    );
    const assigned =
      request.assignedShardId === undefined ? undefined : shards.get(request.assignedShardId);
    if (assigned !== undefined && (request.assignedCachedBlocks ?? 0) > 0) {
      match.holdsAtLeast(assigned, request.assignedCachedBlocks ?? 0);
    }

    if (assigned !== undefined && this.canKeep(assigned, context)) {
      const onAssigned = context.predictedLatency(assigned);
      if (breaksBudget(onAssigned, budgetMs) && this.config.tiers[request.priority].maySpill) {
        const spillTo = this.choose(shards, context, match, assigned.id, assigned);
        if (spillTo) {
          return this.placed(spillTo.shard, spillTo, 'spill', context, assigned.id, onAssigned);
        }
      }
      return this.placed(assigned, undefined, 'affinity', context, undefined);
    }

    const chosen = this.choose(shards, context, match, request.assignedShardId, undefined);
    if (chosen === undefined) return { kind: 'unplaceable', reason: 'no-eligible-shard', budgetMs };
    const reason = request.assignedShardId === undefined ? 'new' : moveReason(request, assigned);
    return this.placed(chosen.shard, chosen, reason, context, request.assignedShardId);
  }

  private canKeep(shard: ShardView, context: PlacementContext): boolean {
    return (
      shard.state === 'ready' &&
      !isExcluded(context.request, shard.id) &&
      (context.pools.size === 0 || context.pools.has(shard.pool))
    );
  }

  /** The request's pools as a set, reused while requests keep naming the same pools. */
  private poolSet(pools: readonly string[]): ReadonlySet<string> {
    if (!samePools(pools, this.lastPools)) {
      this.lastPools = [...pools];
      this.lastPoolSet = new Set(pools);
    }
    return this.lastPoolSet;
  }

  /**
   * The best shard other than `leaving` (the one the conversation is on) and the excluded ones;
   * `scoredCount` says how many candidates were scored. `spillFrom`: a spill off that shard, so the
   * shard chosen must fit the budget and may be in another zone.
   */
  private choose(
    shards: ShardDirectory,
    context: PlacementContext,
    match: PrefixMatch,
    leaving: string | undefined,
    spillFrom: ShardView | undefined,
  ): ScoredShard | undefined {
    let candidates: readonly ShardView[] = this.candidates(
      shards,
      context,
      match,
      leaving,
      spillFrom !== undefined,
    );
    if (spillFrom !== undefined) {
      // Gathered all the same, so that the random draws of later decisions do not change.
      if (candidates.length > 0 && this.noneCanFit(shards, context, match, spillFrom)) {
        return undefined;
      }
      // Before the soft filters, so that "same zone first" falls back to another zone when no
      // shard in the caller's zone would make the budget.
      candidates = fitsLatencyBudgetFilter.filter(candidates, context);
    }
    for (const filter of this.filters) {
      if (candidates.length === 0) return undefined;
      candidates = filter.filter(candidates, context);
    }
    if (candidates.length === 0) return undefined;
    this.scoredCount = candidates.length;
    return this.picker.pick(this.score(candidates, context), context);
  }

  /**
   * Whether every shard but `spillFrom` breaks the budget even on no queue, the most prefix any of
   * them could hold (PrefixMatch.blocksAtMostOnAnyBut) and the fastest prefill of the directory:
   * the fits-latency-budget filter would then reject each candidate on its lower bound (both bounds
   * never grow with what they are given more of), so the search ends before pricing any. A turn
   * whose prompt alone takes longer to prefill than its budget spills nowhere, and without this it
   * priced every candidate to find out.
   */
  private noneCanFit(
    shards: ShardDirectory,
    context: PlacementContext,
    match: PrefixMatch,
    spillFrom: ShardView,
  ): boolean {
    const latency = this.config.latency;
    const fastest = shards.fastestPrefillTokensPerSecond(latency.defaultPrefillTokensPerSecond);
    const leastPrefillMs = predictPrefillAtRateMs(
      fastest,
      context.request.promptTokens,
      match.blocksAtMostOnAnyBut(spillFrom),
      latency,
    );
    return ttftBreaksBudget(leastPrefillMs, context.budgetMs);
  }

  /**
   * Each candidate with its weighted score, in order, except those whose upper bound is already
   * below what the picker could still take (Picker.cannotPickBelow): the picker would pass over
   * them, so leaving them out picks the same shard, and their exact scores (a cache lookup in each
   * shard's block set) are not worked out. Valid until the next decision.
   */
  private score(candidates: readonly ShardView[], context: PlacementContext): ScoredShard[] {
    const picker = this.picker;
    const scored = this.scored;
    scored.length = 0;
    for (let i = 0; i < candidates.length; i++) {
      const shard = candidates[i] as ShardView;
      if (
        scored.length > 0 &&
        picker.cannotPickBelow !== undefined &&
        this.boundTotal(shard, context) < picker.cannotPickBelow(scored)
      ) {
        continue;
      }
      let entry = this.scoredPool[scored.length];
      if (entry === undefined) {
        entry = new CandidateScore(shard, this.scorers.length);
        this.scoredPool.push(entry);
      }
      entry.shard = shard;
      entry.score = this.exactTotal(shard, context, entry.byScorer);
      scored.push(entry);
    }
    return scored;
  }

  /** Valid until the next decision (it may be the reused candidate set's own list). */
  private candidates(
    shards: ShardDirectory,
    context: PlacementContext,
    match: PrefixMatch,
    leaving: string | undefined,
    beyondZone: boolean,
  ): readonly ShardView[] {
    const selection = this.config.candidates;
    const request = context.request;
    const gathered = this.gathered;
    gathered.clear();
    if (selection.mode === 'all') {
      shards.walkPrefixHolders(match, context.pools, 0, this.random, gathered);
      return shards
        .inPools(context.pools)
        .filter((shard) => shard.id !== leaving && !isExcluded(request, shard.id));
    }
    if (leaving !== undefined) shards.exclude(gathered, leaving);
    const excluded = request.excludedShardIds;
    if (excluded !== undefined) for (const id of excluded) shards.exclude(gathered, id);
    shards.walkPrefixHolders(match, context.pools, selection.prefixHolders, this.random, gathered);
    const pools = request.pools.length > 0 ? request.pools : shards.readyPools();
    const zone = request.zone;
    shards.sampleReady(pools, zone, selection.randomSamples, this.random, gathered);
    // A spill may have to leave the zone: let shards elsewhere compete too.
    if (beyondZone && zone !== undefined) {
      shards.sampleReadyElsewhere(pools, zone, selection.randomSamples, this.random, gathered);
    }
    return gathered.shards;
  }

  /**
   * An upper bound on the weighted mean of the scorers: the same sum in the same order as
   * `exactTotal` with each scorer's bound in place of its score (each term is no smaller, and
   * rounding is monotone, so neither is the result).
   */
  private boundTotal(shard: ShardView, context: PlacementContext): number {
    if (this.totalWeight === 0) return 0;
    const scorers = this.scorers;
    let sum = 0;
    for (let i = 0; i < scorers.length; i++) {
      const { scorer, weight } = scorers[i] as WeightedScorer;
      const score =
        scorer.bound !== undefined ? scorer.bound(shard, context) : scorer.score(shard, context);
      sum += weight * clampUnit(score);
    }
    return sum / this.totalWeight;
  }

  /** The weighted mean of the scorers, each one's score (clamped) kept in `byScorer`. */
  private exactTotal(shard: ShardView, context: PlacementContext, byScorer: Float64Array): number {
    if (this.totalWeight === 0) return 0;
    const scorers = this.scorers;
    let sum = 0;
    for (let i = 0; i < scorers.length; i++) {
      const { scorer, weight } = scorers[i] as WeightedScorer;
      const score = clampUnit(scorer.score(shard, context));
      byScorer[i] = score;
      sum += weight * score;
    }
    return sum / this.totalWeight;
  }

  /** `picked` is what the picker returned (undefined for affinity: one candidate, not scored). */
  private placed(
    shard: ShardView,
    picked: ScoredShard | undefined,
    reason: PlacementReason,
    context: PlacementContext,
    previousShardId: string | undefined,
    predictedOnLeft?: LatencyPrediction,
  ): PlacementDecision {
    // Plain data: an object literal with lazy getters cost more to build (fresh closures and
    // accessors per decision) than the scores themselves. A candidate scored exactly brings its
    // scorers' scores along; the conversation's own shard (affinity) is scored here.
    const exact = picked instanceof CandidateScore ? picked.byScorer : undefined;
    const byScorer: Record<string, number> = {};
    let sum = 0;
    const scorers = this.scorers;
    for (let i = 0; i < scorers.length; i++) {
      const { scorer, weight } = scorers[i] as WeightedScorer;
      const score = exact?.[i] ?? clampUnit(scorer.score(shard, context));
      byScorer[scorer.name] = score;
      sum += weight * score;
    }
    return {
      kind: 'placed',
      shard,
      reason,
      previousShardId,
      scores: {
        total: this.totalWeight === 0 ? 0 : sum / this.totalWeight,
        byScorer,
        candidates: picked === undefined ? 1 : this.scoredCount,
        budgetMs: context.budgetMs,
        predicted: context.predictedLatency(shard),
        predictedOnLeft,
      },
    };
  }
}

/**
 * A pooled ScoredShard, reused from decision to decision, with its scorers' scores (in the
 * pipeline's order) for the decision to report if it is the one picked.
 */
class CandidateScore implements ScoredShard {
  score = 0;
  readonly byScorer: Float64Array;

  constructor(
    public shard: ShardView,
    scorers: number,
  ) {
    this.byScorer = new Float64Array(scorers);
  }
}

function moveReason(request: PlacementRequest, assigned: ShardView | undefined): PlacementReason {
  if (request.purpose === 'migration') return 'migration';
  if (request.purpose === 'failover' || assigned === undefined) return 'failover';
  if (assigned.state === 'failed' || assigned.state === 'removed') return 'failover';
  // Still READY yet excluded: it failed this very turn before the registry noticed.
  if (request.excludedShardIds?.includes(assigned.id)) return 'failover';
  return 'migration';
}

function isExcluded(request: PlacementRequest, shardId: string): boolean {
  const excluded = request.excludedShardIds;
  return excluded !== undefined && excluded.length > 0 && excluded.includes(shardId);
}

function samePools(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function clampUnit(value: number): number {
  return value > 1 ? 1 : value > 0 ? value : 0;
}

export function buildPlacementPipeline(config: PlacementConfig, random: Random): PlacementPipeline {
  return new PlacementPipeline(config, random);
}
