import { DomainError } from '@spillway/errors';
import { encodeEvent, outboxHeadersJson, outboxTopicValues, type Topic } from '@spillway/messaging';
import { injectTraceContext } from '@spillway/telemetry';
import type { Pool } from 'pg';
import type { DataSource, QueryRunner } from 'typeorm';
import type {
  AppendOutcome,
  AppendRequest,
  StoreDecision,
} from '../../application/ports/conversation-event-store.port.js';
import { evolve, exists, type ConversationState } from '../../domain/conversation.state.js';
import { toProto } from '../protobuf/conversation-event.mapper.js';
import type { ConversationEventProto } from '../protobuf/proto.js';
import {
  APPEND_STATEMENT_NAME,
  APPEND_STATEMENT_SQL,
  appendStatementValues,
  type AppendedStream,
  type EncodedStreamEvent,
  type StreamWrite,
} from './append-statement.js';
import { databaseUnavailable, isDatabaseOutage } from './database-outage.js';
import { GroupCommit, type GroupCommitOptions, type Settled } from './group-commit.js';
import { snapshotDue } from './snapshots.js';
import { select } from './stream-states.js';
import { CURRENT_SCHEMA_VERSION } from './upcasters.js';

export type Accepted = Extract<StoreDecision, { outcome: 'accepted' }>;

export interface StreamWriterOptions {
  readonly snapshotEvery: number;
  readonly topic: Topic<ConversationEventProto>;
  readonly source: string;
  readonly newId: () => string;
  readonly groupCommit: GroupCommitOptions;
}

/**
 * Encodes decided appends and writes them with the append statement: optimistic appends through
 * the group commit (auto-committed, shared with other conversations' appends), locked ones in the
 * caller's transaction. A write answers the stream's last global position, or undefined when its
 * compare-and-set missed and nothing was written.
 */
export class StreamWriter {
  private readonly groupCommit: GroupCommit<StreamWrite, number | undefined>;
  private readonly outboxTopic: readonly [string, string];

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: StreamWriterOptions,
  ) {
    this.groupCommit = new GroupCommit((writes) => this.commitGroup(writes), options.groupCommit);
    this.outboxTopic = outboxTopicValues(options.topic);
  }

  /** Writes one append with whatever other appends are waiting; an outage as DEPENDENCY.UNAVAILABLE. */
  writeGrouped(write: StreamWrite): Promise<number | undefined> {
    return this.groupCommit.submit(write);
  }

  /**
   * The decided events after `state`, encoded once: the topic codec's bytes are both the event row's
   * payload and the outbox row's.
   */
  prepare(request: AppendRequest, state: ConversationState, decision: Accepted): StreamWrite {
    const { conversationId, tenantId, metadata } = request;
    const fromVersion = state.version;
    // The operation's trace context goes with its outbox rows; the relay's producer span continues it.
    const traceContext = injectTraceContext<Record<string, string>>({});
    let next: ConversationState = state;
    const events = decision.events.map((event, index): EncodedStreamEvent => {
      next = evolve(next, event);
      const version = fromVersion + index + 1;
      const encoded = encodeEvent(
        this.options.topic,
        {
          key: conversationId,
          event: toProto(event, { conversationId, tenantId, version }),
          id: decision.eventIds?.[index] ?? this.options.newId(),
          time: new Date(event.occurredAtMs),
        },
        this.options.source,
        traceContext,
      );
      return {
        eventId: encoded.id,
        version,
        type: event.type,
        schemaVersion: CURRENT_SCHEMA_VERSION[event.type],
        payload: encoded.data,
        occurredAtMs: event.occurredAtMs,
        outboxHeaders: outboxHeadersJson(encoded),
      };
    });
    if (!exists(next))
      throw new Error(`stream ${conversationId} would have events but no ConversationStarted`);
    return {
      conversationId,
      tenantId,
      fromVersion,
      next,
      snapshot: snapshotDue(fromVersion, next.version, this.options.snapshotEvery),
      metadata,
      events,
    };
  }

  /** Writes one append in the caller's transaction; undefined when its compare-and-set missed. */
  async writeIn(runner: QueryRunner, write: StreamWrite): Promise<number | undefined> {
    const rows = await select<AppendedStream>(
      runner,
      APPEND_STATEMENT_SQL,
      appendStatementValues([write], this.outboxTopic),
    );
    return rows[0] ? Number(rows[0].global_position) : undefined;
  }

  /**
   * One statement for a group of appends to distinct streams. A statement that fails as a whole
   * (a reused event id, a deadlock) writes nothing: each append is then sent alone, so every
   * caller gets its own answer and one caller's mistake never fails another's append.
   */
  private async commitGroup(
    writes: readonly StreamWrite[],
  ): Promise<readonly Settled<number | undefined>[]> {
    try {
      const positions = await this.sendAppends(writes);
      return writes.map((write) => ({ ok: true, value: positions.get(write.conversationId) }));
    } catch (error) {
      if (writes.length === 1 || error instanceof DomainError) throw error;
      return Promise.all(
        writes.map(async (write): Promise<Settled<number | undefined>> => {
          try {
            const positions = await this.sendAppends([write]);
            return { ok: true, value: positions.get(write.conversationId) };
          } catch (alone) {
            return { ok: false, error: alone };
          }
        }),
      );
    }
  }

  /** Last global position per stream whose append went through; an outage as DEPENDENCY.UNAVAILABLE. */
  private async sendAppends(writes: readonly StreamWrite[]): Promise<Map<string, number>> {
    const client = await this.pool()
      .connect()
      .catch((error: unknown) => {
        throw isDatabaseOutage(error) ? databaseUnavailable('append', error, false) : error;
      });
    let broken: Error | undefined;
    try {
      const { rows } = await client.query<AppendedStream>({
        name: APPEND_STATEMENT_NAME,
        text: APPEND_STATEMENT_SQL,
        values: appendStatementValues(writes, this.outboxTopic),
      });
      return new Map(rows.map((row) => [row.stream_id, Number(row.global_position)]));
    } catch (error) {
      if (!isDatabaseOutage(error)) throw error;
      broken = error instanceof Error ? error : new Error(String(error));
      // Once the statement is on the wire, a lost connection leaves its commit unknown.
      throw databaseUnavailable('append', error, true);
    } finally {
      client.release(broken);
    }
  }

  /** TypeORM's pg pool: the group commit sends its prepared statement without a query runner. */
  private pool(): Pool {
    return (this.dataSource.driver as unknown as { readonly master: Pool }).master;
  }
}

export function outcomeOf(
  write: StreamWrite,
  decision: Accepted,
  lastGlobalPosition: number,
): AppendOutcome {
  const opened = decision.events.find((event) => event.type === 'UserMessageAppended');
  return {
    version: write.next.version,
    lastGlobalPosition,
    duplicate: false,
    turnId: opened?.type === 'UserMessageAppended' ? opened.data.turnId : undefined,
    state: write.next,
  };
}
