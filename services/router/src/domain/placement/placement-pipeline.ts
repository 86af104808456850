import type { Random } from '../random.js';
import { latencyBudgetMs } from '../spill/latency-budget.js';
import { breaksBudget } from '../spill/spill-check.js';
import { fitsLatencyBudgetFilter } from './filters/fits-latency-budget.filter.js';
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
    );
    const excluded = new Set(request.excludedShardIds ?? []);
    const assigned =
      request.assignedShardId === undefined ? undefined : shards.get(request.assignedShardId);

    if (assigned !== undefined && this.canKeep(assigned, context, excluded)) {
      const overBudget = breaksBudget(context.predictedLatency(assigned), budgetMs);
      if (overBudget && this.config.tiers[request.priority].maySpill) {
        excluded.add(assigned.id);
        const spillTo = this.choose(shards, context, match, excluded, true);
        if (spillTo) return this.placed(spillTo, 'spill', context, assigned.id);
      }
      return this.placed({ shard: assigned, candidates: 1 }, 'affinity', context, undefined);
    }

    if (request.assignedShardId !== undefined) excluded.add(request.assignedShardId);
    const chosen = this.choose(shards, context, match, excluded, false);
    if (chosen === undefined) return { kind: 'unplaceable', reason: 'no-eligible-shard', budgetMs };
    const reason = request.assignedShardId === undefined ? 'new' : moveReason(request, assigned);
    return this.placed(chosen, reason, context, request.assignedShardId);
  }

  private canKeep(
    shard: ShardView,
    context: PlacementContext,
    excluded: ReadonlySet<string>,
  ): boolean {
    return (
      shard.state === 'ready' &&
      !excluded.has(shard.id) &&
      (context.pools.size === 0 || context.pools.has(shard.pool))
    );
  }

  private choose(
    shards: ShardDirectory,
    context: PlacementContext,
    match: PrefixMatch,
    excluded: ReadonlySet<string>,
    mustFitBudget: boolean,
  ): { shard: ShardView; candidates: number } | undefined {
    let candidates: readonly ShardView[] = this.candidates(
      shards,
      context,
      match,
      excluded,
      mustFitBudget,
    );
    // Before the soft filters, so that "same zone first" falls back to another zone when no shard
    // in the caller's zone would make the budget.
    if (mustFitBudget) candidates = fitsLatencyBudgetFilter.filter(candidates, context);
    for (const filter of this.filters) {
      if (candidates.length === 0) return undefined;
      candidates = filter.filter(candidates, context);
    }
    if (candidates.length === 0) return undefined;
    const scored: ScoredShard[] = candidates.map((shard) => ({
      shard,
      score: this.total(shard, context),
    }));
    const picked = this.picker.pick(scored, context);
    return picked === undefined ? undefined : { shard: picked.shard, candidates: scored.length };
  }

  private candidates(
    shards: ShardDirectory,
    context: PlacementContext,
    match: PrefixMatch,
    excluded: ReadonlySet<string>,
    beyondZone: boolean,
  ): ShardView[] {
    const selection = this.config.candidates;
    if (selection.mode === 'all') {
      shards.walkPrefixHolders(match, context.pools, 0, this.random, [], new Set());
      return shards.inPools(context.pools).filter((shard) => !excluded.has(shard.id));
    }
    const out: ShardView[] = [];
    const seen = new Set<string>(excluded);
    shards.walkPrefixHolders(match, context.pools, selection.prefixHolders, this.random, out, seen);
    const pools = context.request.pools.length > 0 ? context.request.pools : shards.readyPools();
    const zone = context.request.zone;
    shards.sampleReady(pools, zone, selection.randomSamples, this.random, out, seen);
    // A spill may have to leave the zone: let shards elsewhere compete too.
    if (beyondZone && zone !== undefined) {
      shards.sampleReadyElsewhere(pools, zone, selection.randomSamples, this.random, out, seen);
    }
    return out;
  }

  private total(shard: ShardView, context: PlacementContext): number {
    if (this.totalWeight === 0) return 0;
    let sum = 0;
    for (const { scorer, weight } of this.scorers)
      sum += weight * clampUnit(scorer.score(shard, context));
    return sum / this.totalWeight;
  }

  private placed(
    chosen: { shard: ShardView; candidates: number },
    reason: PlacementReason,
    context: PlacementContext,
    previousShardId: string | undefined,
  ): PlacementDecision {
    const byScorer: Record<string, number> = {};
    for (const { scorer } of this.scorers)
      byScorer[scorer.name] = clampUnit(scorer.score(chosen.shard, context));
    return {
      kind: 'placed',
      shard: chosen.shard,
      reason,
      previousShardId,
      scores: {
        total: this.total(chosen.shard, context),
        byScorer,
        candidates: chosen.candidates,
        budgetMs: context.budgetMs,
        predicted: context.predictedLatency(chosen.shard),
      },
    };
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

function clampUnit(value: number): number {
  return value > 1 ? 1 : value > 0 ? value : 0;
}

export function buildPlacementPipeline(config: PlacementConfig, random: Random): PlacementPipeline {
  return new PlacementPipeline(config, random);
}
