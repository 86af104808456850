import type { CompareAndSetAssignment, CompareAndSetOutcome } from '../assignment-registry.port.js';
import type { ConversationMessage } from '../conversation.port.js';
import type { ShardAddress } from '../inference.port.js';

/** Why conversations move: their shard failed or is draining, or a turn found its shard gone. */
/** `rerouted`: the model's routes moved its pool (a rollback), the shard itself is fine. */
export type MigrationReason = 'shard-failed' | 'shard-draining' | 'shard-gone' | 'rerouted';

/** One pin as the registry stores it, with the tenant the conversation-state calls need. */
export interface RegisteredAssignment {
  readonly conversationId: string;
  readonly tenantId: string;
  readonly shardId: string;
  readonly version: number;
}

export interface AssignmentPage {
  readonly assignments: readonly RegisteredAssignment[];
  /** Empty on the last page. */
  readonly nextPageToken: string;
}

/** The registry's durable assignment map (shard-metadata's ListAssignments, GetAssignment, CAS). */
export interface MigrationRegistryPort {
  /** Keyset pages in conversation-id order: moving a listed conversation never skips another. */
  listOnShard(shardId: string, pageSize: number, pageToken: string): Promise<AssignmentPage>;
  get(conversationId: string): Promise<RegisteredAssignment | undefined>;
  compareAndSet(request: CompareAndSetAssignment): Promise<CompareAndSetOutcome>;
}

/** What the saga needs to know about a conversation before moving it. */
export interface MigrationContext {
  readonly model: string;
  /** The context the next turn will send, under the store's token budget. */
  readonly messages: readonly ConversationMessage[];
  readonly estimatedTokens: number;
  /** The shard conversation-state records the conversation on; '' before its first migration. */
  readonly recordedShardId: string;
}

export interface RecordMigration {
  readonly tenantId: string;
  readonly conversationId: string;
  readonly migrationId: string;
  readonly fromShardId: string;
  readonly toShardId: string;
  readonly reason: MigrationReason;
  /** The lifecycle event (or turn) that caused the move: the events' causation id. */
  readonly causationId: string;
  /**
   * The registry's assignment version of a move it has already applied (a turn's failover or
   * re-route, recorded after the fact): conversation-state then records it whatever order it
   * arrives in, and the stream's shard follows the newest version. 0 for the saga's own moves,
   * which are recorded before the registry applies them (so a crash can resume them): those must
   * start from the stream's shard.
   */
  readonly assignmentVersion: number;
}

/** A pin to record as ConversationPinned (conversation-state's PinConversation). */
export interface RecordPin {
  readonly tenantId: string;
  readonly conversationId: string;
  readonly shardId: string;
  /**
   * new, spill, reconciled (the stream put back on the registry's shard), or migrated (the saga's
   * own move, once the registry applied it: it brings the move's version).
   */
  readonly reason: 'new' | 'spill' | 'reconciled' | 'migrated';
  /** The pin's cause, as a causation id. */
  readonly causationId: string;
  /** The registry's assignment version of this pin (0: not known); see RecordMigration. */
  readonly assignmentVersion: number;
}

/** A conversation that cannot be migrated now or ever: closed, or unknown to conversation-state. */
export type ContextLookup =
  | { readonly kind: 'found'; readonly context: MigrationContext }
  | { readonly kind: 'closed' }
  | { readonly kind: 'not-found' };

/** conversation-state's ConversationStore, as the saga uses it. */
export interface MigrationConversationsPort {
  context(tenantId: string, conversationId: string): Promise<ContextLookup>;
  /**
   * StartMigration then CompleteMigration with one migration id: exactly one ConversationMigrated
   * per id however often it is called. Resolves true when this call appended it.
   */
  recordMigration(command: RecordMigration): Promise<boolean>;
  /** PinConversation: the stream's shard becomes `shardId` (a no-op when it already is). */
  recordPin(command: RecordPin): Promise<void>;
}

export interface PrewarmRequest {
  readonly conversationId: string;
  readonly model: string;
  readonly messages: readonly ConversationMessage[];
}

/** The target shard's Inference.Prewarm: its prefix cache holds the context before the next turn. */
export interface PrewarmPort {
  prewarm(shard: ShardAddress, request: PrewarmRequest): Promise<void>;
}

/** How one conversation's migration ended. */
export type MigrationOutcome =
  /** Moved now, or its move was finished now after an earlier attempt stopped half-way. */
  | 'migrated'
  /** Another replica or a turn's failover moved it first; nothing left to do. */
  | 'moved-elsewhere'
  /** Closed or unknown to conversation-state: nothing to move. */
  | 'skipped'
  /** No ready shard can take it now: the event is redelivered and the move tried again. */
  | 'unplaceable'
  /** An outage on the way (registry, store): tried again with the event. */
  | 'failed';

export interface MigrationMetrics {
  conversationMigrated(reason: MigrationReason, outcome: MigrationOutcome): void;
  prewarmFailed(): void;
  /** One lifecycle event's whole pass over its shard. */
  shardMigrated(reason: MigrationReason, durationMs: number, conversations: number): void;
}

export const NO_MIGRATION_METRICS: MigrationMetrics = {
  conversationMigrated: () => undefined,
  prewarmFailed: () => undefined,
  shardMigrated: () => undefined,
};

/**
 * Tells whoever handed the saga a shard that the pass is still at work (the lifecycle event's
 * consumer heartbeats its group, which would otherwise give the event to another replica
 * mid-pass). Called after every conversation, so it must be cheap to call often. A rejection ends
 * the pass: the event is no longer this replica's to finish.
 */
export type Heartbeat = () => Promise<void>;

export const NO_HEARTBEAT: Heartbeat = () => Promise.resolve();

/** What caused a migration, for its trace (a link to the cause, never a parent). */
export interface MigrationCause {
  readonly reason: MigrationReason;
  /** The lifecycle event's ce_id, or a turn's id for a migration on demand. */
  readonly causeId: string;
  /** Headers of the event that caused it (traceparent, tracestate): its trace is linked. */
  readonly traceHeaders: Readonly<Record<string, string>>;
}

/** One trace per conversation migration, linked to the trace of the event that caused it. */
export interface MigrationTracing {
  inMigrationTrace<T>(
    conversationId: string,
    cause: MigrationCause,
    fn: (annotate: (key: string, value: string) => void) => Promise<T>,
  ): Promise<T>;
}

export const NO_MIGRATION_TRACING: MigrationTracing = {
  inMigrationTrace: (_conversationId, _cause, fn) => fn(() => undefined),
};
