import { DomainError } from '@spillway/errors';
import { enqueueOutbox, type Queryable, type Topic } from '@spillway/messaging';
import { QueryFailedError, type DataSource, type QueryRunner } from 'typeorm';
import type {
  AppendOutcome,
  AppendRequest,
  ConversationEventStore,
  ConversationPage,
  Result,
  StoreDecision,
  StreamSlice,
} from '../../application/ports/conversation-event-store.port.js';
import {
  conversationExists,
  conversationNotFound,
  invalidField,
  versionConflict,
} from '../../domain/conversation.errors.js';
import {
  evolve,
  exists,
  initialState,
  type ConversationDetails,
  type ConversationState,
} from '../../domain/conversation.state.js';
import { toProto } from '../protobuf/conversation-event.mapper.js';
import { ConversationEventProto } from '../protobuf/proto.js';
import { SNAPSHOT_SCHEMA_VERSION, snapshotDue, snapshotJson } from './snapshots.js';
import { StreamReads } from './stream-reads.js';
import { select, StreamStates } from './stream-states.js';
import { CURRENT_SCHEMA_VERSION } from './upcasters.js';

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
}

interface StreamHead {
  readonly tenant_id: string;
  readonly version: number;
}

type Attempt = Result<AppendOutcome> | 'retry' | 'lock';

const ok = <T>(value: T): Result<T> => ({ ok: true, value });
const fail = <T>(error: DomainError): Result<T> => ({ ok: false, error });

/**
 * The event store on PostgreSQL. An append is one transaction: decide against the current state,
 * move the stream version with a compare-and-set (`WHERE version = from`, which also takes the row
 * lock) in the same statement that inserts the events (unique (stream_id, version) backs it up),
 * maybe snapshot, and enqueue the same events in the outbox.
 *
 * Two ways to know the current state: optimistically from memory (one statement fewer; a stale
 * state makes the compare-and-set miss and the append is redone the careful way), or by locking the
 * stream row first (`SELECT ... FOR UPDATE`) and loading snapshot + tail. Refusals are only ever
 * decided on a locked, current state.
 */
export class PostgresConversationEventStore implements ConversationEventStore {
  private readonly states: StreamStates;
  private readonly reads: StreamReads;

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: PostgresEventStoreOptions,
  ) {
    this.states = new StreamStates(options.stateCacheSize);
    this.reads = new StreamReads(dataSource, this.states);
  }

  async append(request: AppendRequest): Promise<Result<AppendOutcome>> {
    let locked = !this.canTryOptimistically(request);
    for (let attempt = 0; attempt < 4; attempt++) {
      const result = await this.transaction(request, locked);
      if (result === 'lock') locked = true;
      else if (result !== 'retry') return result;
    }
    return fail(conversationExists(request.conversationId));
  }

  load(tenantId: string, conversationId: string): Promise<Result<ConversationDetails>> {
    return this.reads.load(tenantId, conversationId);
  }

  read(
    tenantId: string,
    conversationId: string,
    fromVersion: number,
    maxCount: number,
  ): Promise<Result<StreamSlice>> {
    return this.reads.read(tenantId, conversationId, fromVersion, maxCount);
  }

  list(tenantId: string, pageSize: number, pageToken: string): Promise<Result<ConversationPage>> {
    return this.reads.list(tenantId, pageSize, pageToken);
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

  private async transaction(request: AppendRequest, locked: boolean): Promise<Attempt> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      const result = locked
        ? await this.appendLocked(runner, request)
        : await this.appendOptimistically(runner, request);
      if (typeof result !== 'string' && result.ok && !result.value.duplicate) {
        await runner.commitTransaction();
        this.states.remember(result.value.state);
      } else {
        await runner.rollbackTransaction();
      }
      return result;
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
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
      if (constraint === 'events_event_id_key')
        return fail(invalidField('events.event_id', 'is already used by another event'));
      throw error;
    } finally {
      await runner.release();
    }
  }

  private async appendOptimistically(
    runner: QueryRunner,
    request: AppendRequest,
  ): Promise<Attempt> {
    // Read once: another append may replace the cached state while this one is deciding.
    const state = this.optimisticState(request);
    if (!state) return 'lock';
    const decision = request.decide(state);
    // Only an acceptance can be checked by the compare-and-set; anything else is decided again
    // on the locked, current state.
    if (decision.outcome !== 'accepted' || decision.events.length === 0) return 'lock';
    const written = await this.write(runner, request, state, decision);
    return written ?? 'lock';
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
    const written = await this.write(runner, request, state, decision);
    if (!written) throw new Error(`stream ${conversationId} moved while locked`);
    return written;
  }

  /**
   * Appends the decided events after `state`: the compare-and-set on the stream and the event
   * insert in one statement, then snapshot and outbox. Undefined when the stream is no longer at
   * `state.version` (the optimistic path lost a race; nothing was written).
   */
  private async write(
    runner: QueryRunner,
    request: AppendRequest,
    state: ConversationState,
    decision: Extract<StoreDecision, { outcome: 'accepted' }>,
  ): Promise<Result<AppendOutcome> | undefined> {
    const { conversationId, tenantId, metadata } = request;
    const fromVersion = state.version;
    const eventIds = decision.events.map(
      (_, index) => decision.eventIds?.[index] ?? this.options.newId(),
    );
    let next: ConversationState = state;
    const protos = decision.events.map((event, index) => {
      next = evolve(next, event);
      return toProto(event, { conversationId, tenantId, version: fromVersion + index + 1 });
    });
    if (!exists(next))
      throw new Error(`stream ${conversationId} would have events but no ConversationStarted`);
    const toVersion = fromVersion + decision.events.length;
    const rows = await select<{ global_position: string }>(
      runner,
      `WITH moved AS (
         UPDATE streams
            SET version = $2, model = $3, shard_id = $4, closed = $5,
                updated_at = to_timestamp($6::double precision / 1000)
          WHERE id = $1 AND tenant_id = $7 AND version = $8
         RETURNING id)
       INSERT INTO events (event_id, stream_id, version, type, schema_version, payload, metadata, idempotency_key, occurred_at)
       SELECT e.event_id, moved.id, e.version, e.type, e.schema_version, e.payload, $9::jsonb, $10,
              to_timestamp(e.occurred_at / 1000)
         FROM moved,
              unnest($11::uuid[], $12::int[], $13::text[], $14::int[], $15::bytea[], $16::double precision[])
                AS e(event_id, version, type, schema_version, payload, occurred_at)
       RETURNING global_position`,
      [
        conversationId,
        toVersion,
        next.model,
        next.shardId,
        next.status === 'closed',
        next.updatedAtMs,
        tenantId,
        fromVersion,
        JSON.stringify(metadata),
        metadata.idempotencyKey === '' ? null : metadata.idempotencyKey,
        eventIds,
        protos.map((proto) => proto.version),
        decision.events.map((event) => event.type),
        decision.events.map((event) => CURRENT_SCHEMA_VERSION[event.type]),
        protos.map((proto) => Buffer.from(ConversationEventProto.encode(proto).finish())),
        decision.events.map((event) => event.occurredAtMs),
      ],
    );
    if (rows.length === 0) return undefined;
    if (snapshotDue(fromVersion, toVersion, this.options.snapshotEvery)) {
      await runner.query(
        `INSERT INTO snapshots (stream_id, version, schema_version, state) VALUES ($1, $2, $3, $4::jsonb)
         ON CONFLICT (stream_id) DO UPDATE
           SET version = EXCLUDED.version, schema_version = EXCLUDED.schema_version,
               state = EXCLUDED.state, taken_at = now()`,
        [conversationId, toVersion, SNAPSHOT_SCHEMA_VERSION, snapshotJson(next)],
      );
    }
    await enqueueOutbox(
      queryableOf(runner),
      this.options.topic,
      protos.map((event, index) => ({
        key: conversationId,
        event,
        id: eventIds[index] ?? '',
        time: new Date(event.occurredAtMs),
      })),
      { source: this.options.source },
    );
    const opened = decision.events.find((event) => event.type === 'UserMessageAppended');
    return ok({
      version: toVersion,
      lastGlobalPosition: Math.max(...rows.map((row) => Number(row.global_position))),
      duplicate: false,
      turnId: opened?.type === 'UserMessageAppended' ? opened.data.turnId : undefined,
      state: next,
    });
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

/** The transaction's connection as libs/messaging sees it (it only sends statements, never reads results). */
function queryableOf(runner: QueryRunner): Queryable {
  return {
    query: (text: string, values?: unknown[]) => runner.query(text, values),
  } as unknown as Queryable;
}

function uniqueViolation(error: unknown): string | undefined {
  if (!(error instanceof QueryFailedError)) return undefined;
  const driverError = error.driverError as { code?: string; constraint?: string } | undefined;
  return driverError?.code === '23505' ? driverError.constraint : undefined;
}
