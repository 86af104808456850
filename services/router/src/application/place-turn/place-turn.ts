import { isDomainError, type DomainError } from '@spillway/errors';
import {
  routeModel,
  type Assignment,
  type AssignmentView,
  type PlacementDecision,
  type PlacementPipeline,
  type PlacementPurpose,
  type PriorityTier,
  type QueueDepth,
  type ShardDirectory,
} from '../../domain/index.js';
import type { AssignmentRegistryPort } from '../assignment-registry.port.js';
import type { Clock } from '../clock.port.js';
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
    for (let attempt = 0; attempt < MAX_PIN_ATTEMPTS; attempt++) {
      const assignment = assignments.get(command.conversationId);
      const placed = this.place(command, assignment, [routing.pool], routing.fallbackPools);
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
          pinned: true,
          assignment,
        };
      }
      if (command.pin === false) {
        return {
          kind: 'placed',
          decision,
          shadowPool: routing.shadowPool,
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
          pinned: true,
          assignment: outcome.current,
        };
      }
    }
    return {
      kind: 'placed',
      decision: decision as PlacedDecision,
      shadowPool: routing.shadowPool,
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
  ): PlacementDecision {
    const { pipeline, shards, clock, queues } = this.deps;
    const request = {
      conversationId: command.conversationId,
      assignedShardId: assignment?.shardId,
      promptBlocks: command.promptBlocks,
      promptTokens: command.promptTokens,
      priority: command.priority,
      ttftBudgetMs: command.ttftBudgetMs,
      zone: command.zone,
      purpose: command.purpose,
      excludedShardIds: command.excludedShardIds,
    };
    const nowMs = clock.nowMs();
    const decision = pipeline.decide({ ...request, pools }, shards, nowMs, queues);
    if (decision.kind === 'placed' || fallbackPools.length === 0) return decision;
    // The conversation's pool has no shard to take it: the model's other pools serve it meanwhile.
    return pipeline.decide({ ...request, pools: fallbackPools }, shards, nowMs, queues);
  }
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
