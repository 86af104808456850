import { outboxInsertFrom } from '@spillway/messaging';
import type { EventMetadata } from '../../application/ports/conversation-event-store.port.js';
import type { ConversationDetails } from '../../domain/conversation.state.js';
import { SNAPSHOT_SCHEMA_VERSION, snapshotJson } from './snapshots.js';

/** One decided append, encoded and ready to be written after `fromVersion`. */
export interface StreamWrite {
  readonly conversationId: string;
  readonly tenantId: string;
  readonly fromVersion: number;
  /** The state after the append: the stream row's columns, and the snapshot when one is due. */
  readonly next: ConversationDetails;
  readonly snapshot: boolean;
  readonly metadata: EventMetadata;
  readonly events: readonly EncodedStreamEvent[];
}

export interface EncodedStreamEvent {
  readonly eventId: string;
  readonly version: number;
  readonly type: string;
  readonly schemaVersion: number;
  /** The topic codec's encoding: stored in `events` and, unchanged, in the outbox. */
  readonly payload: Uint8Array;
  readonly occurredAtMs: number;
  /** The outbox row's headers (libs/messaging's outboxHeadersJson). */
  readonly outboxHeaders: string;
}

/** A row of the statement's answer: the last global position a stream's append got. */
export interface AppendedStream {
  readonly stream_id: string;
  readonly global_position: string;
}

// The statement's text is the same for one append or many, so it is prepared once per connection
// and PostgreSQL does not parse and plan it again on every call.
export const APPEND_STATEMENT_NAME = 'spillway_conversation_append_v1';

/**
 * Appends to any number of distinct streams in one auto-committed statement, each append
 * conditional on its own compare-and-set: a stream no longer at its `fromVersion` writes nothing
 * and is missing from the answer, while the others go through. Event rows, snapshots and outbox
 * rows are written only for streams whose version moved, in the order given (so outbox ids keep
 * each stream's order). Payloads travel as one binary parameter, sliced in SQL, instead of a bytea
 * array PostgreSQL would have to parse from hex text.
 */
export const APPEND_STATEMENT_SQL = `
WITH appends AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::text[], $6::text[],
                       $7::boolean[], $8::double precision[], $9::jsonb[], $10::text[])
    WITH ORDINALITY AS a(stream_id, tenant_id, from_version, to_version, model, shard_id, closed,
                         updated_at_ms, metadata, idempotency_key, n)),
moved AS (
  UPDATE streams s
     SET version = a.to_version, model = a.model, shard_id = a.shard_id, closed = a.closed,
         updated_at = to_timestamp(a.updated_at_ms / 1000)
    FROM appends a
   WHERE s.id = a.stream_id AND s.tenant_id = a.tenant_id AND s.version = a.from_version
  RETURNING s.id),
submitted AS (
  SELECT e.event_id, a.stream_id AS key, e.version, e.type, e.schema_version,
         substring($19::bytea FROM e.payload_start FOR e.payload_length) AS payload,
         a.metadata, a.idempotency_key, e.occurred_at_ms, e.headers, e.position
    FROM unnest($11::int[], $12::uuid[], $13::int[], $14::text[], $15::int[], $16::int[], $17::int[],
                $18::double precision[], $20::jsonb[])
           WITH ORDINALITY AS e(append, event_id, version, type, schema_version, payload_start,
                                payload_length, occurred_at_ms, headers, position)
    JOIN appends a ON a.n = e.append
   WHERE a.stream_id IN (SELECT id FROM moved)),
appended AS (
  INSERT INTO events (event_id, stream_id, version, type, schema_version, payload, metadata,
                      idempotency_key, occurred_at)
  SELECT event_id, key, version, type, schema_version, payload, metadata, idempotency_key,
         to_timestamp(occurred_at_ms / 1000)
    FROM submitted ORDER BY position
  RETURNING stream_id, global_position),
snapshot AS (
  INSERT INTO snapshots (stream_id, version, schema_version, state)
  SELECT sn.stream_id, sn.version, $23, sn.state
    FROM unnest($21::text[], $22::int[], $24::json[]) AS sn(stream_id, version, state)
   WHERE sn.stream_id IN (SELECT id FROM moved)
  ON CONFLICT (stream_id) DO UPDATE
    SET version = EXCLUDED.version, schema_version = EXCLUDED.schema_version,
        state = EXCLUDED.state, taken_at = now()),
outboxed AS (${outboxInsertFrom('submitted', 25)})
SELECT stream_id, max(global_position) AS global_position FROM appended GROUP BY stream_id`;

/** The statement's parameters for `writes` (distinct streams), in order. */
export function appendStatementValues(
  writes: readonly StreamWrite[],
  outboxTopic: readonly [string, string],
): unknown[] {
  const events = writes.flatMap((write, index) =>
    write.events.map((event) => ({ append: index + 1, event })),
  );
  let start = 1;
  const starts = events.map(({ event }) => {
    const at = start;
    start += event.payload.byteLength;
    return at;
  });
  const snapshots = writes.filter((write) => write.snapshot);
  return [
    writes.map((write) => write.conversationId),
    writes.map((write) => write.tenantId),
    writes.map((write) => write.fromVersion),
    writes.map((write) => write.next.version),
    writes.map((write) => write.next.model),
    writes.map((write) => write.next.shardId),
    writes.map((write) => write.next.status === 'closed'),
    writes.map((write) => write.next.updatedAtMs),
    writes.map((write) => JSON.stringify(write.metadata)),
    writes.map((write) =>
      write.metadata.idempotencyKey === '' ? null : write.metadata.idempotencyKey,
    ),
    events.map(({ append }) => append),
    events.map(({ event }) => event.eventId),
    events.map(({ event }) => event.version),
    events.map(({ event }) => event.type),
    events.map(({ event }) => event.schemaVersion),
    starts,
    events.map(({ event }) => event.payload.byteLength),
    events.map(({ event }) => event.occurredAtMs),
    Buffer.concat(events.map(({ event }) => event.payload)),
    events.map(({ event }) => event.outboxHeaders),
    snapshots.map((write) => write.conversationId),
    snapshots.map((write) => write.next.version),
    SNAPSHOT_SCHEMA_VERSION,
    snapshots.map((write) => snapshotJson(write.next)),
    ...outboxTopic,
  ];
}
