import { isDomainError, type DomainError } from '@spillway/errors';
import {
  DEFAULT_LATENCY_MODEL,
  PrefixMatch,
  recomputedPrefill,
  routeModel,
  weighSpill,
  withCachedPrefix,
  type PlacedPrefixes,
  type Assignment,
  type AssignmentView,
  type PlacementDecision,
  type PlacementPipeline,
  type PlacementPurpose,
  type PriorityTier,
  type QueueDepth,
  type LatencyModelConfig,
  type PriorityTier as Priority,
  type ShardDirectory,
  type ShardView,
  type SpillCostConfig,
  type SpillVerdict,
} from '../../domain/index.js';
import type { AssignmentRegistryPort } from '../assignment-registry.port.js';
import type { Clock } from '../clock.port.js';
import type { LogPort } from '../log.port.js';
import type { RouterMetrics } from '../router-metrics.port.js';
import type { ModelRoutesPort } from '../model-routes.port.js';

export interface PlaceTurnCommand {
  readonly tenantId: string;
  readonly conversationId: string;
  readonly turnId: string;
  readonly model: string;
  readonly promptBlocks: readonly number[];
  readonly promptTokens: number;
  readonly priority: PriorityTier;
  readonly ttftBudgetMs?: number | undefined;
  readonly zone?: string | undefined;
  readonly purpose?: PlacementPurpose | undefined;
  readonly excludedShardIds?: readonly string[] | undefined;
  /**
   * False places the turn without pinning the conversation (a stateless turn with no conversation
   * id): placement still prefers the shards holding its prefix. 'background' pins it without
   * waiting for the registry (a turn failing over mid-stream resumes at once; the registry's answer
   * is applied to the local view when it comes). Default true.
   */
  readonly pin?: boolean | 'background' | undefined;
  /**
   * The conversation has a stream in conversation-state: a pin that applies (new, spill) is
   * recorded there as ConversationPinned, so the stream's shard follows the registry's. Stateless
   * keys are stored nowhere and cost no call.
   */
  readonly stored?: boolean | undefined;
}

/**
 * Why a placed turn is not pinned where it runs: other replicas kept moving the conversation
 * during this call, the registry could not be reached (the turn runs anyway: serving beats
 * bookkeeping), or the command asked for no pin.
 */
export type UnpinnedBecause =
  | 'contention'
  | 'registry-unavailable'
  | 'not-requested'
  /** The pin is on its way to the registry (pin: 'background'). */
  | 'pinning';

export type PlacedDecision = Extract<PlacementDecision, { kind: 'placed' }>;

export type PlaceTurnResult =
  | {
      readonly kind: 'placed';
      readonly decision: PlacedDecision;
      /** Set when this turn's copy also goes to the model's shadow pool. */
      readonly shadowPool: string | undefined;
      /**
       * Whether the registry pins the conversation to the chosen shard. False only when other
       * replicas kept moving it during this call; the turn still runs where it was placed.
       */
      readonly pinned: boolean;
      readonly unpinnedBecause?: UnpinnedBecause | undefined;
      readonly assignment: Assignment | undefined;
      /** Set when placement proposed a spill: whether it was taken, and why. */
      readonly spill?: SpillWeighed | undefined;
    }
  /**
   * The registry refused to pin the conversation to the chosen shard (it knows the shard to be
   * gone, failed or draining before this router's copy does): place again without it.
   */
  | { readonly kind: 'shard-refused'; readonly shardId: string; readonly error: DomainError }
  | { readonly kind: 'unknown-model'; readonly model: string }
  | { readonly kind: 'unplaceable'; readonly pools: readonly string[]; readonly budgetMs: number };

export interface PlaceTurnDependencies {
  readonly pipeline: PlacementPipeline;
  readonly shards: ShardDirectory;
  readonly assignments: AssignmentView;
  readonly routes: ModelRoutesPort;
  readonly registry: AssignmentRegistryPort;
  readonly clock: Clock;
  readonly queues: QueueDepth;
  /** Told of every pin this router applies that moves a conversation off a shard it had to leave. */
  readonly moves?: ConversationMovesPort | undefined;
  /** Weighs each spill placement proposes against its cost (ADR 0009); absent: every one is taken. */
  readonly spillCost?: SpillCostDependencies | undefined;
  /**
   * What this router placed where, per conversation: the context a shard holds that its own report
   * is too short to list. A turn staying on its conversation's shard is predicted to prefill only
   * what is new to it (admission counts that prefill as the shard's backlog), and a spill is weighed
   * with it. Absent: placement's view alone.
   */
  readonly prefixes?: PlacedPrefixes | undefined;
  /** The latency model placement uses (its config's `latency`); default DEFAULT_LATENCY_MODEL. */
  readonly latency?: LatencyModelConfig | undefined;
}

export interface SpillCostDependencies {
  readonly config: SpillCostConfig;
  /** What admission knows about the shards (TurnAdmission). */
  readonly shards: SpillShardsPort;
  /** Counts spills declined (RouterMetrics). */
  readonly metrics?: Pick<RouterMetrics, 'spillDeclined'> | undefined;
  /** A debug line per spill weighed, taken or declined. */
  readonly log?: LogPort | undefined;
}

export interface SpillShardsPort {
  /** Turns on the shard waiting for their first token. */
  turnsAwaitingFirstToken(shardId: string): number;
  /** Admission would refuse the turn on the shard now. */
  wouldRefuse(
    shardId: string,
    turn: { readonly priority: Priority; readonly budgetMs: number; readonly prefillMs: number },
  ): boolean;
}

/** A spill placement proposed, weighed: the verdict and the figures behind it. */
export interface SpillWeighed extends SpillVerdict {
  readonly fromShardId: string;
  readonly toShardId: string;
  /** Context tokens cached on the shard left and not on the target. */
  readonly recomputeTokens: number;
  readonly recomputeMs: number;
  readonly waitingOnTarget: number;
}

/**
 * A conversation moved off its shard because the shard failed (a turn failed over) or is leaving
 * (migration): the registry's pin has already moved, at `version`. Spills are not moves of this
 * kind: the shard they leave is healthy, only busy.
 */
export interface ConversationMove {
  readonly tenantId: string;
  readonly conversationId: string;
  readonly fromShardId: string;
  readonly toShardId: string;
  readonly reason: 'failover' | 'migration';
  /** The assignment version that pinned the conversation to `fromShardId`. */
  readonly fromVersion: number;
  /** The assignment version the registry gave this move. */
  readonly toVersion: number;
}

/** A stored conversation pinned where it was not: its first shard, or a spill's. */
export interface ConversationPin {
  readonly tenantId: string;
  readonly conversationId: string;
  readonly shardId: string;
  readonly reason: 'new' | 'spill';
  /** The assignment version the pin replaced (0 for a first pin). */
  readonly fromVersion: number;
  /** The assignment version the registry gave this pin. */
  readonly toVersion: number;
}

/**
 * Records moves (ConversationMigrated in conversation-state) and pins (ConversationPinned); must
 * not throw or block.
 */
export interface ConversationMovesPort {
  moved(move: ConversationMove): void;
  pinned(pin: ConversationPin): void;
}

/** Another replica may move the conversation between our read and our compare-and-set. */
const MAX_PIN_ATTEMPTS = 3;

/**
 * Places one turn: the model's canary split picks the pool, placement picks the shard, and a move
 * (new, spill, failover, migration) re-pins the conversation through the registry's
 * compare-and-set. When another router replica won the race, its pin is applied locally and the
 * turn is placed again against it, so replicas converge on one shard per conversation.
 */
export class PlaceTurn {
  constructor(private readonly deps: PlaceTurnDependencies) {}

  async execute(command: PlaceTurnCommand): Promise<PlaceTurnResult> {
    const { assignments, registry } = this.deps;
    const routing = routeModel(
      this.deps.routes.current(),
      command.model,
      command.conversationId,
      command.turnId,
    );
    if (routing.kind === 'unknown-model') return routing;

    let decision: PlacedDecision | undefined;
    let spill: SpillWeighed | undefined;
    for (let attempt = 0; attempt < MAX_PIN_ATTEMPTS; attempt++) {
      const assignment = assignments.get(command.conversationId);
      const placement = this.place(command, assignment, [routing.pool], routing.fallbackPools);
      const placed = placement.decision;
      spill = placement.spill;
      if (placed.kind === 'unplaceable') {
        return {
          kind: 'unplaceable',
          pools: [routing.pool, ...routing.fallbackPools],
          budgetMs: placed.budgetMs,
        };
      }
      decision = placed;
      if (assignment?.shardId === placed.shard.id) {
        return {
          kind: 'placed',
          decision,
          shadowPool: routing.shadowPool,
          spill,
          pinned: true,
          assignment,
        };
      }
      if (command.pin === false) {
        return {
          kind: 'placed',
          decision,
          shadowPool: routing.shadowPool,
          spill,
          pinned: false,
          unpinnedBecause: 'not-requested',
          assignment,
        };
      }
      if (command.pin === 'background') {
        this.pinInBackground(command, placed.shard.id, assignment, placed.reason);
        return {
          kind: 'placed',
          decision,
          shadowPool: routing.shadowPool,
          spill,
          pinned: false,
          unpinnedBecause: 'pinning',
          assignment,
        };
      }
      let outcome;
      try {
        outcome = await registry.compareAndSet({
          conversationId: command.conversationId,
          tenantId: command.tenantId,
          shardId: placed.shard.id,
          expectedVersion: assignment?.version ?? 0,
          reason: placed.reason,
        });
      } catch (error) {
        if (isShardRefusal(error)) {
          return { kind: 'shard-refused', shardId: placed.shard.id, error };
        }
        return {
          kind: 'placed',
          decision,
          shadowPool: routing.shadowPool,
          spill,
          pinned: false,
          unpinnedBecause: 'registry-unavailable',
          assignment,
        };
      }
      if (outcome.current !== undefined) assignments.applyRemote(outcome.current);
      if (outcome.applied) {
        this.reportMove(command, assignment, outcome.current, placed.reason);
        return {
          kind: 'placed',
          decision,
          shadowPool: routing.shadowPool,
          spill,
          pinned: true,
          assignment: outcome.current,
        };
      }
    }
    return {
      kind: 'placed',
      decision: decision as PlacedDecision,
      shadowPool: routing.shadowPool,
      spill,
      pinned: false,
      unpinnedBecause: 'contention',
      assignment: assignments.get(command.conversationId),
    };
  }

  private pinInBackground(
    command: PlaceTurnCommand,
    shardId: string,
    assignment: Assignment | undefined,
    reason: PlacedDecision['reason'],
  ): void {
    const { assignments, registry } = this.deps;
    registry
      .compareAndSet({
        conversationId: command.conversationId,
        tenantId: command.tenantId,
        shardId,
        expectedVersion: assignment?.version ?? 0,
        reason,
      })
      .then(
        (outcome) => {
          if (outcome.current !== undefined) assignments.applyRemote(outcome.current);
          if (outcome.applied) this.reportMove(command, assignment, outcome.current, reason);
        },
        // Unpinned for now: the conversation's next turn places and pins it again.
        () => undefined,
      );
  }

  /**
   * A pin that took the conversation off a failed or leaving shard is a move worth recording; a
   * stored conversation's first pin and its spills are recorded as pins.
   */
  private reportMove(
    command: PlaceTurnCommand,
    from: Assignment | undefined,
    to: Assignment | undefined,
    reason: PlacedDecision['reason'],
  ): void {
    const moves = this.deps.moves;
    if (moves === undefined || to === undefined || from?.shardId === to.shardId) return;
    const { shardId: toShardId, version: toVersion } = to;
    if ((reason === 'new' || reason === 'spill') && command.stored === true) {
      moves.pinned({
        tenantId: command.tenantId,
        conversationId: command.conversationId,
        shardId: toShardId,
        reason,
        fromVersion: from?.version ?? 0,
        toVersion,
      });
      return;
    }
    if (from === undefined) return;
    if (reason !== 'failover' && reason !== 'migration') return;
    moves.moved({
      tenantId: command.tenantId,
      conversationId: command.conversationId,
      fromShardId: from.shardId,
      toShardId,
      reason,
      fromVersion: from.version,
      toVersion,
    });
  }

  private place(
    command: PlaceTurnCommand,
    assignment: Assignment | undefined,
    pools: readonly string[],
    fallbackPools: readonly string[],
  ): Placement {
    const { pipeline, shards, clock, queues } = this.deps;
    const request = {
      conversationId: command.conversationId,
      assignedShardId: assignment?.shardId,
      // What the router sent the conversation's shard: the turn's prefill there is only what is
      // new, which is what admission counts as the shard's backlog until the first token.
      assignedCachedBlocks:
        assignment === undefined
          ? undefined
          : this.deps.prefixes?.heldOn(
              command.conversationId,
              assignment.shardId,
              command.promptBlocks,
            ),
      promptBlocks: command.promptBlocks,
      promptTokens: command.promptTokens,
      priority: command.priority,
      ttftBudgetMs: command.ttftBudgetMs,
      zone: command.zone,
      purpose: command.purpose,
      excludedShardIds: command.excludedShardIds,
    };
    const nowMs = clock.nowMs();
    let decision = pipeline.decide({ ...request, pools }, shards, nowMs, queues);
    // The conversation's pool has no shard to take it: the model's other pools serve it meanwhile.
    if (decision.kind !== 'placed' && fallbackPools.length > 0)
      decision = pipeline.decide({ ...request, pools: fallbackPools }, shards, nowMs, queues);
    if (decision.kind !== 'placed') return { decision };
    const placement = this.weighSpill(command, decision);
    if (placement.decision.kind === 'placed')
      this.deps.prefixes?.record(
        command.conversationId,
        placement.decision.shard.id,
        command.promptBlocks,
      );
    return placement;
  }

  private heldByRecord(command: PlaceTurnCommand, shard: ShardView): number {
    const prefixes = this.deps.prefixes;
    return prefixes === undefined
      ? 0
      : prefixes.heldOn(command.conversationId, shard.id, command.promptBlocks);
  }

  private latency(): LatencyModelConfig {
    return this.deps.latency ?? DEFAULT_LATENCY_MODEL;
  }

  /**
   * A spill placement proposed is taken only when what it buys the turn exceeds what its recomputed
   * prefill costs the target's turns (domain weighSpill); declined, the turn stays on its own shard
   * as an affinity placement, where admission still refuses it if its deadline cannot be met.
   */
  private weighSpill(command: PlaceTurnCommand, decision: PlacedDecision): Placement {
    const spillCost = this.deps.spillCost;
    if (spillCost === undefined || decision.reason !== 'spill') return { decision };
    const home =
      decision.previousShardId === undefined
        ? undefined
        : this.deps.shards.get(decision.previousShardId);
    const onHomeAsPlaced = decision.scores.predictedOnLeft;
    if (home === undefined || onHomeAsPlaced === undefined) return { decision };
    const target = decision.shard;
    const match = new PrefixMatch(command.promptBlocks);
    const homeBlocks = Math.max(match.blocksOn(home), this.heldByRecord(command, home));
    const targetBlocks = match.blocksOn(target);
    const recompute = recomputedPrefill(
      target,
      command.promptTokens,
      homeBlocks,
      targetBlocks,
      this.latency(),
    );
    const onHome = withCachedPrefix(
      home,
      command.promptTokens,
      onHomeAsPlaced,
      homeBlocks,
      this.latency(),
    );
    const budgetMs = decision.scores.budgetMs;
    const waitingOnTarget = spillCost.shards.turnsAwaitingFirstToken(target.id);
    const verdict = weighSpill(
      {
        budgetMs,
        home: onHome,
        target: decision.scores.predicted,
        recomputeMs: recompute.ms,
        waitingOnTarget,
        refusedAtHome: spillCost.shards.wouldRefuse(home.id, {
          priority: command.priority,
          budgetMs,
          prefillMs: onHome.prefillMs,
        }),
      },
      spillCost.config,
    );
    const spill: SpillWeighed = {
      ...verdict,
      fromShardId: home.id,
      toShardId: target.id,
      recomputeTokens: recompute.tokens,
      recomputeMs: recompute.ms,
      waitingOnTarget,
    };
    spillCost.log?.debug('spill weighed', () => ({
      turnId: command.turnId,
      conversationId: command.conversationId,
      taken: spill.spill,
      why: spill.why,
      from: spill.fromShardId,
      to: spill.toShardId,
      budgetMs: rounded(budgetMs),
      predictedTtftHomeMs: rounded(onHome.ttftMs),
      predictedWaitHomeMs: rounded(onHome.queueWaitMs),
      predictedTtftHomeAsPlacedMs: rounded(onHomeAsPlaced.ttftMs),
      predictedTtftTargetMs: rounded(decision.scores.predicted.ttftMs),
      predictedWaitTargetMs: rounded(decision.scores.predicted.queueWaitMs),
      cachedBlocksHome: homeBlocks,
      cachedBlocksTarget: targetBlocks,
      gainMs: rounded(spill.gainMs),
      recomputeTokens: spill.recomputeTokens,
      recomputeMs: rounded(spill.recomputeMs),
      waitingOnTarget,
      turnsCharged: spill.turnsCharged,
      costMs: rounded(spill.costMs),
    }));
    if (verdict.spill) return { decision, spill };
    if (verdict.why === 'cost-exceeds-gain' || verdict.why === 'home-within-budget')
      spillCost.metrics?.spillDeclined(verdict.why);
    return { decision: stayHome(home, onHome, budgetMs), spill };
  }
}

/** A placement, with the spill weighing that shaped it, if there was one. */
interface Placement {
  readonly decision: PlacementDecision;
  readonly spill?: SpillWeighed | undefined;
}

/** The turn stays on its own shard: an affinity placement, as if no spill had been proposed. */
function stayHome(
  home: ShardView,
  onHome: PlacedDecision['scores']['predicted'],
  budgetMs: number,
): PlacedDecision {
  return {
    kind: 'placed',
    shard: home,
    reason: 'affinity',
    previousShardId: undefined,
    scores: { total: 0, byScorer: {}, candidates: 1, budgetMs, predicted: onHome },
  };
}

function rounded(value: number): number {
  return Math.round(value * 10) / 10;
}

/** The registry's answer when the shard itself cannot take the pin (see shard-metadata's README). */
function isShardRefusal(error: unknown): error is DomainError {
  return (
    isDomainError(error) &&
    (error.code === 'SHARD.NOT_FOUND' ||
      error.code === 'SHARD.UNAVAILABLE' ||
      error.code === 'SHARD.DRAINING')
  );
}
