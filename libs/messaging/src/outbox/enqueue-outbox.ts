import { injectTraceContext } from '@spillway/telemetry';
import { encodeEvent, type EncodedEvent, type OutgoingEvent } from '../cloudevents.js';
import type { Queryable } from '../postgres.js';
import type { Topic } from '../topics.js';
import { outboxNames, type OutboxLocation } from './outbox-schema.js';

export interface EnqueueOptions extends OutboxLocation {
  /** `ce_source`, e.g. `/spillway/conversation-state`. */
  readonly source: string;
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
  const { table, channel } = outboxNames(options);
  // The operation's trace context is stored with the row; the relay's producer span continues it.
  const traceContext = injectTraceContext<Record<string, string>>({});
  const encoded = events.map((event) => encodeEvent(topic, event, options.source, traceContext));
  await client.query(
    `INSERT INTO ${table} (event_id, topic, key, type, payload, headers)
     SELECT event_id, topic, key, type, payload, headers
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bytea[], $6::jsonb[])
            WITH ORDINALITY AS e(event_id, topic, key, type, payload, headers, position)
      ORDER BY position`,
    [
      encoded.map((event) => event.id),
      encoded.map((event) => event.topic),
      encoded.map((event) => event.key),
      encoded.map((event) => event.type),
      encoded.map((event) =>
        Buffer.from(event.data.buffer, event.data.byteOffset, event.data.byteLength),
      ),
      encoded.map((event) => JSON.stringify(storedHeaders(event))),
    ],
  );
  // Delivered on COMMIT and dropped on ROLLBACK, so the relay wakes only for rows it can see.
  await client.query('SELECT pg_notify($1, $2)', [channel, '']);
  return encoded;
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
