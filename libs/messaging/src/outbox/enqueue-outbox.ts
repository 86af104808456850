import { injectTraceContext } from '@spillway/telemetry';
import { encodeEvent, type EncodedEvent, type OutgoingEvent } from '../cloudevents.js';
import type { Queryable } from '../postgres.js';
import type { Topic } from '../topics.js';
import { outboxNames, type OutboxLocation } from './outbox-schema.js';

export interface EnqueueOptions extends OutboxLocation {
  /** `ce_source`, e.g. `/spillway/conversation-state`. */
  readonly source: string;
  /**
   * Whether the transaction also sends the NOTIFY that wakes an idle relay. Default true. A
   * notifying commit holds PostgreSQL's notify-queue lock through its WAL flush, which serialises
   * every notifying commit on the server; busy writers pass false and hint with an
   * {@link OutboxWakeup} after commit instead.
   */
  readonly notify?: boolean;
}

/**
 * Writes events to the outbox through `client`, which must be the caller's transaction (the same
 * PoolClient as the business write): the events then exist if and only if the business change
 * commits. The row's `event_id` becomes the record's `ce_id`, which is what lets consumers drop the
 * copy a relay re-sends after a crash. Custom ids must be UUIDs.
 */
export async function enqueueOutbox<T>(
  client: Queryable,
  topic: Topic<T>,
  events: readonly OutgoingEvent<T>[],
  options: EnqueueOptions,
): Promise<readonly EncodedEvent[]> {
  if (events.length === 0) return [];
  const insert = outboxInsert(topic, events, options);
  await client.query(insert.sql, [...insert.values]);
  // Delivered on COMMIT and dropped on ROLLBACK, so the relay wakes only for rows it can see.
  if (options.notify ?? true)
    await client.query('SELECT pg_notify($1, $2)', [outboxNames(options).channel, '']);
  return insert.encoded;
}

export interface OutboxInsert {
  /** `INSERT INTO <schema>.outbox ... SELECT ... FROM unnest($n, ...)`, no trailing semicolon. */
  readonly sql: string;
  /** The statement's parameters, numbered from `firstParameter`. */
  readonly values: readonly unknown[];
  readonly encoded: readonly EncodedEvent[];
}

/**
 * The outbox INSERT for `events` as a statement part, for a caller that writes its business change
 * and the outbox in one statement (a data-modifying CTE: one round trip, atomic even without an
 * explicit transaction). Parameters are numbered from `firstParameter`; `condition`, if given, is a
 * SQL boolean over the caller's CTEs that must hold for any row to be written (e.g.
 * `EXISTS (SELECT 1 FROM moved)` for "only if the compare-and-set matched").
 */
export function outboxInsert<T>(
  topic: Topic<T>,
  events: readonly OutgoingEvent<T>[],
  options: EnqueueOptions,
  firstParameter = 1,
  condition?: string,
): OutboxInsert {
  const { table } = outboxNames(options);
  // The operation's trace context is stored with the row; the relay's producer span continues it.
  const traceContext = injectTraceContext<Record<string, string>>({});
  const encoded = events.map((event) => encodeEvent(topic, event, options.source, traceContext));
  const $ = (offset: number): string => `$${firstParameter + offset}`;
  return {
    sql: `INSERT INTO ${table} (event_id, topic, key, type, payload, headers)
     SELECT event_id, topic, key, type, payload, headers
       FROM unnest(${$(0)}::uuid[], ${$(1)}::text[], ${$(2)}::text[], ${$(3)}::text[], ${$(4)}::bytea[], ${$(5)}::jsonb[])
            WITH ORDINALITY AS e(event_id, topic, key, type, payload, headers, position)
      WHERE ${TRANSACTION_ID_FIRST}${condition ? ` AND (${condition})` : ''}
      ORDER BY position`,
    values: [
      encoded.map((event) => event.id),
      encoded.map((event) => event.topic),
      encoded.map((event) => event.key),
      encoded.map((event) => event.type),
      encoded.map((event) =>
        Buffer.from(event.data.buffer, event.data.byteOffset, event.data.byteLength),
      ),
      encoded.map((event) => JSON.stringify(storedHeaders(event))),
    ],
    encoded,
  };
}

/**
 * The outbox INSERT for rows the caller's own statement already holds, for a one-statement writer
 * that stores the same encoded bodies elsewhere too (each body then crosses the wire once).
 * `relation` is a CTE or sub-select with the columns `event_id` (uuid), `key`, `payload` (bytea,
 * the topic codec's encoding), `headers` (jsonb, {@link outboxHeadersJson}) and `position` (their
 * order). The topic's name and `ce_type` are the parameters `$topicParameter` and the one after
 * it, with the values {@link outboxTopicValues}; the SQL text stays the same for every topic, so it
 * can be a prepared statement.
 */
export function outboxInsertFrom(
  relation: string,
  topicParameter: number,
  options: OutboxLocation = {},
): string {
  const { table } = outboxNames(options);
  return `INSERT INTO ${table} (event_id, topic, key, type, payload, headers)
     SELECT event_id, $${topicParameter}::text, key, $${topicParameter + 1}::text, payload, headers
       FROM ${relation}
      WHERE ${TRANSACTION_ID_FIRST}
      ORDER BY position`;
}

/**
 * Every outbox insert's gate: a condition on no row, which PostgreSQL checks once before the first
 * row is produced, and which gives the transaction its id if it has none yet. The row ids (the
 * sequence, in the insert's projection) come after it, so a row's transaction always has an id
 * older than the row's: what lets the relay tell when every row below an id has committed or
 * rolled back (see ReadFloor).
 */
const TRANSACTION_ID_FIRST = 'pg_current_xact_id() IS NOT NULL';

/** The values of outboxInsertFrom's topic parameters. */
export function outboxTopicValues<T>(topic: Topic<T>): readonly [string, string] {
  return [topic.name, topic.codec.type];
}

/** The `headers` column of an event's outbox row, as JSON text. */
export function outboxHeadersJson(event: EncodedEvent): string {
  return JSON.stringify(storedHeaders(event));
}

/** What the `headers` column holds: the attributes not stored in their own columns. */
export interface StoredHeaders {
  readonly ce_source: string;
  readonly ce_time: string;
  readonly [traceHeader: string]: string;
}

function storedHeaders(event: EncodedEvent): StoredHeaders {
  return { ...event.traceContext, ce_source: event.source, ce_time: event.time };
}
