import { DomainError } from '@spillway/errors';
import { OutboxWakeup, type Queryable, type Topic } from '@spillway/messaging';
import { QueryFailedError, type DataSource, type QueryRunner } from 'typeorm';
import type {
  AppendOutcome,
  AppendRequest,
  ConversationEventStore,
  ConversationPage,
  Result,
  StreamSlice,
} from '../../application/ports/conversation-event-store.port.js';
import {
  conversationExists,
  conversationNotFound,
  invalidField,
  versionConflict,
} from '../../domain/conversation.errors.js';
import {
  initialState,
  type ConversationDetails,
  type ConversationState,
} from '../../domain/conversation.state.js';
import type { ConversationEventProto } from '../protobuf/proto.js';
import { databaseUnavailable, isDatabaseOutage, rethrowOutage } from './database-outage.js';
import { earlierAppend } from './earlier-append.js';
import type { GroupCommitOptions } from './group-commit.js';
import { StreamReads } from './stream-reads.js';
import { select, StreamStates } from './stream-states.js';
import { outcomeOf, StreamWriter } from './stream-writer.js';

export interface PostgresEventStoreOptions {
  /** Write a snapshot each time a stream crosses a multiple of this many events; 0 disables. */
  readonly snapshotEvery: number;
  /** Conversation states kept in memory (validated against the stream version on every use). */
  readonly stateCacheSize: number;
  /** Where the outbox relay publishes the events. */
  readonly topic: Topic<ConversationEventProto>;
  /** `ce_source` of the published events. */
  readonly source: string;
  readonly newId: () => string;
  /** How optimistic appends to different conversations are grouped into one statement. */
  readonly groupCommit?: GroupCommitOptions;
}

/** Two statements in flight: one executing while the next group gathers. */
const DEFAULT_GROUP_COMMIT: GroupCommitOptions = { maxInFlight: 2, maxWrites: 64 };

interface StreamHead {
  readonly tenant_id: string;
  readonly version: number;
}

type Attempt = Result<AppendOutcome> | 'retry' | 'lock';

const ok = <T>(value: T): Result<T> => ({ ok: true, value });
const fail = <T>(error: DomainError): Result<T> => ({ ok: false, error });

/**
 * The event store on PostgreSQL. An append is atomic: decide against the current state, then one
 * statement moves the stream version with a compare-and-set (`WHERE version = from`, which also
 * takes the row lock), inserts the events (unique (stream_id, version) backs it up), maybe
 * snapshots, and enqueues the same events in the outbox, all conditional on the compare-and-set.
 *
 * Two ways to know the current state: optimistically from memory (that one statement is the whole
 * append, one round trip, shared with other conversations' appends in flight by a group commit; a
 * stale state makes the compare-and-set miss, nothing is written and the append is redone the
 * careful way), or in a transaction that locks the stream row first (`SELECT ... FOR UPDATE`) and
 * loads snapshot + tail. Refusals are only ever decided on a locked, current state. A refused raw
 * append is checked against the stored events, so that retrying one that committed is answered with
 * its original result.
 *
 * The relay is hinted after commit, at most every few milliseconds (OutboxWakeup), not by a NOTIFY
 * in every append: notifying commits are serialised by PostgreSQL. A lost connection becomes
 * DEPENDENCY.UNAVAILABLE (retryable), saying whether the append may have been stored.
 */
export class PostgresConversationEventStore implements ConversationEventStore {
  private readonly states: StreamStates;
  private readonly reads: StreamReads;
  private readonly wakeup = new OutboxWakeup();
  private readonly hints: Queryable;
  private readonly writer: StreamWriter;

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: PostgresEventStoreOptions,
  ) {
    this.states = new StreamStates(options.stateCacheSize);
    this.reads = new StreamReads(dataSource, this.states);
    this.writer = new StreamWriter(dataSource, {
      ...options,
      groupCommit: options.groupCommit ?? DEFAULT_GROUP_COMMIT,
    });
    this.hints = {
      query: (text: string, values?: unknown[]) => dataSource.query(text, values),
    } as unknown as Queryable;
  }

  async append(request: AppendRequest): Promise<Result<AppendOutcome>> {
    const result = await this.decideAndWrite(request);
    if (result.ok || !request.submitted) return result;
    // Refusals are rare, so only they pay for looking up whether this is a retry of a stored append.
    const earlier = await earlierAppend(this.dataSource, this.states, request).catch(
      rethrowOutage('append'),
    );
    return earlier ?? result;
  }

  private async decideAndWrite(request: AppendRequest): Promise<Result<AppendOutcome>> {
    let locked = !this.canTryOptimistically(request);
    for (let attempt = 0; attempt < 4; attempt++) {
      const result = locked
        ? await this.appendInTransaction(request)
        : await this.appendOptimistically(request);
      if (result === 'lock') locked = true;
      else if (result !== 'retry') return result;
    }
    return fail(conversationExists(request.conversationId));
  }

  load(tenantId: string, conversationId: string): Promise<Result<ConversationDetails>> {
    return this.reads.load(tenantId, conversationId).catch(rethrowOutage('load'));
  }

  read(
    tenantId: string,
    conversationId: string,
    fromVersion: number,
    maxCount: number,
  ): Promise<Result<StreamSlice>> {
    return this.reads
      .read(tenantId, conversationId, fromVersion, maxCount)
      .catch(rethrowOutage('read'));
  }

  list(tenantId: string, pageSize: number, pageToken: string): Promise<Result<ConversationPage>> {
    return this.reads.list(tenantId, pageSize, pageToken).catch(rethrowOutage('list'));
  }

  private canTryOptimistically(request: AppendRequest): boolean {
    return this.optimisticState(request) !== undefined;
  }

  /** The cached state if an optimistic append may be decided on it (checked again on every try). */
  private optimisticState(request: AppendRequest): ConversationDetails | undefined {
    const cached = this.states.peek(request.conversationId);
    const usable =
      cached !== undefined &&
      cached.tenantId === request.tenantId &&
      (request.expectedVersion === undefined || request.expectedVersion === cached.version) &&
      !(request.dedupeByMetadataKey && request.metadata.idempotencyKey !== '');
    return usable ? cached : undefined;
  }

  /**
   * The whole append as one auto-committed statement, decided on the cached state, and grouped
   * with other conversations' appends in flight at the same time.
   */
  private async appendOptimistically(request: AppendRequest): Promise<Attempt> {
    // Read once: another append may replace the cached state while this one is deciding.
    const state = this.optimisticState(request);
    if (!state) return 'lock';
    const decision = request.decide(state);
    // Only an acceptance can be checked by the compare-and-set; anything else is decided again
    // on the locked, current state.
    if (decision.outcome !== 'accepted' || decision.events.length === 0) return 'lock';
    const write = this.writer.prepare(request, state, decision);
    try {
      const position = await this.writer.writeGrouped(write);
      if (position === undefined) return 'lock';
      const outcome = outcomeOf(write, decision, position);
      this.committed(outcome.state);
      return ok(outcome);
    } catch (error) {
      // An outage arrives as DEPENDENCY.UNAVAILABLE already, saying whether it may have committed.
      return this.refusalOf(error, request, true);
    }
  }

  private async appendInTransaction(request: AppendRequest): Promise<Attempt> {
    const runner = this.dataSource.createQueryRunner();
    let committing = false;
    try {
      await runner.connect();
      await runner.startTransaction();
      const result = await this.appendLocked(runner, request);
      if (typeof result !== 'string' && result.ok && !result.value.duplicate) {
        committing = true;
        await runner.commitTransaction();
        this.committed(result.value.state);
      } else {
        await runner.rollbackTransaction();
      }
      return result;
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      return this.refusalOf(error, request, committing);
    } finally {
      await runner.release();
    }
  }

  private committed(state: ConversationState): void {
    this.states.remember(state);
    // On a connection of its own, not awaited: the client's answer does not wait for the hint.
    void this.wakeup.afterCommit(this.hints);
  }

  /** A failed write as the caller's refusal, or thrown: an outage (retryable) or a bug. */
  private refusalOf(
    error: unknown,
    request: AppendRequest,
    maybeApplied: boolean,
  ): Result<AppendOutcome> {
    if (error instanceof DomainError) throw error;
    const constraint = uniqueViolation(error);
    // Backstop for the compare-and-set: two writers can never both own one (stream, version).
    if (constraint === 'events_stream_version_unique') {
      return fail(
        new DomainError(
          'CONVERSATION.VERSION_CONFLICT',
          `Conversation ${request.conversationId} changed concurrently; read it again and retry`,
        ),
      );
    }
    // The outbox rows are copies of the event rows, so this index is the only one that can trip.
    if (constraint === 'events_event_id_key')
      return fail(invalidField('events.event_id', 'is already used by another event'));
    if (isDatabaseOutage(error)) throw databaseUnavailable('append', error, maybeApplied);
    throw error;
  }

  private async appendLocked(runner: QueryRunner, request: AppendRequest): Promise<Attempt> {
    const { conversationId, tenantId } = request;
    const [stream] = await select<StreamHead>(
      runner,
      'SELECT tenant_id, version FROM streams WHERE id = $1 FOR UPDATE',
      [conversationId],
    );
    if (stream && stream.tenant_id !== tenantId) {
      return fail(
        request.intent === 'create'
          ? conversationExists(conversationId)
          : conversationNotFound(conversationId),
      );
    }
    if (!stream && (request.intent === 'update' || (request.expectedVersion ?? 0) !== 0)) {
      return fail(conversationNotFound(conversationId));
    }
    if (stream && request.dedupeByMetadataKey && request.metadata.idempotencyKey !== '') {
      const [earlier] = await select<{ version: number | null; position: string | null }>(
        runner,
        'SELECT max(version) AS version, max(global_position) AS position FROM events WHERE stream_id = $1 AND idempotency_key = $2',
        [conversationId, request.metadata.idempotencyKey],
      );
      if (earlier?.version != null) {
        return ok({
          version: earlier.version,
          lastGlobalPosition: Number(earlier.position),
          duplicate: true,
          turnId: undefined,
          state: initialState(),
        });
      }
    }
    const fromVersion = stream?.version ?? 0;
    if (request.expectedVersion !== undefined && request.expectedVersion !== fromVersion) {
      return fail(versionConflict(conversationId, request.expectedVersion, fromVersion));
    }
    const state = stream
      ? await this.states.at(runner, conversationId, fromVersion)
      : initialState();
    const decision = request.decide(state);
    switch (decision.outcome) {
      case 'rejected':
        return fail(decision.error);
      case 'unchanged':
        return ok({
          version: decision.version,
          lastGlobalPosition: await positionOf(runner, conversationId, decision.version),
          duplicate: true,
          turnId: decision.turnId,
          state,
        });
      case 'accepted':
        break;
      default: {
        const unhandled: never = decision;
        return unhandled;
      }
    }
    if (decision.events.length === 0) {
      const lastGlobalPosition = await positionOf(runner, conversationId, fromVersion);
      return ok({
        version: fromVersion,
        lastGlobalPosition,
        duplicate: true,
        turnId: undefined,
        state,
      });
    }
    if (!stream) {
      const created = await select(
        runner,
        `INSERT INTO streams (id, tenant_id, version, created_at, updated_at) VALUES ($1, $2, 0, now(), now())
         ON CONFLICT (id) DO NOTHING RETURNING id`,
        [conversationId, tenantId],
      );
      // Another writer created it first: start over, now as an update of its stream.
      if (created.length === 0) return 'retry';
    }
    const write = this.writer.prepare(request, state, decision);
    const position = await this.writer.writeIn(runner, write);
    if (position === undefined) throw new Error(`stream ${conversationId} moved while locked`);
    return ok(outcomeOf(write, decision, position));
  }
}

async function positionOf(
  runner: QueryRunner,
  conversationId: string,
  version: number,
): Promise<number> {
  const [row] = await select<{ global_position: string }>(
    runner,
    'SELECT global_position FROM events WHERE stream_id = $1 AND version = $2',
    [conversationId, version],
  );
  return row ? Number(row.global_position) : 0;
}

/** The constraint a failed statement violated: from TypeORM's wrapper or pg's own error. */
function uniqueViolation(error: unknown): string | undefined {
  const failure = (error instanceof QueryFailedError ? error.driverError : error) as
    { code?: string; constraint?: string } | undefined;
  return failure?.code === '23505' ? failure.constraint : undefined;
}
