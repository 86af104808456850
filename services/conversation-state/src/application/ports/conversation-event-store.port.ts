import type { DomainError } from '@spillway/errors';
import type { Decision } from '../../domain/conversation.decider.js';
import type { ConversationEvent } from '../../domain/conversation.events.js';
import type { ConversationDetails, ConversationState } from '../../domain/conversation.state.js';

/** What travels with every stored event besides its body. */
export interface EventMetadata {
  readonly correlationId: string;
  readonly causationId: string;
  /** W3C traceparent of the operation that produced the event; '' outside a trace. */
  readonly traceparent: string;
  readonly idempotencyKey: string;
}

/** An event as the store holds it, its body already upcast to the current schema. */
export interface RecordedEvent {
  readonly eventId: string;
  readonly conversationId: string;
  readonly tenantId: string;
  readonly version: number;
  readonly globalPosition: number;
  readonly schemaVersion: number;
  /** Schema version the row was written with, before upcasting. */
  readonly storedSchemaVersion: number;
  readonly event: ConversationEvent;
  readonly metadata: EventMetadata;
}

export type Result<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: DomainError };

/** An event as a raw append submits it, with the id the caller chose (a UUID). */
export interface SubmittedEvent {
  readonly eventId: string;
  readonly event: ConversationEvent;
}

/** Decided events, optionally with the ids the caller chose for them (UUIDs). */
export type StoreDecision = Decision & { readonly eventIds?: readonly string[] };

export interface AppendRequest {
  readonly tenantId: string;
  readonly conversationId: string;
  /** `create` may start a missing stream; `update` needs an existing one of this tenant. */
  readonly intent: 'create' | 'update';
  /** Refuse with CONVERSATION.VERSION_CONFLICT unless the stream is exactly at this version. */
  readonly expectedVersion: number | undefined;
  readonly metadata: EventMetadata;
  /**
   * When set, an earlier append carrying the same metadata.idempotencyKey is returned instead of
   * deciding again (for raw appends, whose keys the domain state does not track).
   */
  readonly dedupeByMetadataKey: boolean;
  /**
   * Raw appends: the events as submitted, ids included. When the append is refused, the store looks
   * these ids up, so that the retry of an append that already committed (its answer was lost) gets
   * the original result instead of a conflict.
   */
  readonly submitted?: readonly SubmittedEvent[];
  /** Runs inside the write transaction against the current state, while the stream is locked. */
  decide(state: ConversationState): StoreDecision;
}

export interface AppendOutcome {
  /** The stream version after the append, or the version of the original for a duplicate. */
  readonly version: number;
  readonly lastGlobalPosition: number;
  readonly duplicate: boolean;
  readonly turnId: string | undefined;
  readonly state: ConversationState;
}

export interface StreamSlice {
  readonly events: readonly RecordedEvent[];
  readonly currentVersion: number;
}

export interface ConversationSummary {
  readonly conversationId: string;
  readonly tenantId: string;
  readonly model: string;
  readonly version: number;
  readonly closed: boolean;
  readonly shardId: string;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
}

export interface ConversationPage {
  readonly conversations: readonly ConversationSummary[];
  /** Opaque; '' on the last page. */
  readonly nextPageToken: string;
}

/** One stream per conversation, append-only, owned by one tenant. */
export interface ConversationEventStore {
  append(request: AppendRequest): Promise<Result<AppendOutcome>>;
  /** The current state; NOT_FOUND (same as missing) when the stream belongs to another tenant. */
  load(tenantId: string, conversationId: string): Promise<Result<ConversationDetails>>;
  read(
    tenantId: string,
    conversationId: string,
    fromVersion: number,
    maxCount: number,
  ): Promise<Result<StreamSlice>>;
  list(tenantId: string, pageSize: number, pageToken: string): Promise<Result<ConversationPage>>;
}

export const CONVERSATION_EVENT_STORE = Symbol('ConversationEventStore');
