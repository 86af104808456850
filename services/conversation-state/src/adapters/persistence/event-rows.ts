import { ConversationEventProto } from '../protobuf/proto.js';
import { isConversationEventType } from '../../domain/conversation.events.js';
import type {
  EventMetadata,
  RecordedEvent,
} from '../../application/ports/conversation-event-store.port.js';
import { fromProto } from '../protobuf/conversation-event.mapper.js';
import { CURRENT_SCHEMA_VERSION, upcast } from './upcasters.js';

/** An `events` row as the append and load SQL select it. */
export interface RawEventRow {
  readonly global_position: string;
  readonly event_id: string;
  readonly stream_id: string;
  readonly version: number;
  readonly type: string;
  readonly schema_version: number;
  readonly payload: Buffer;
  readonly metadata: Partial<EventMetadata> | null;
}

export const EVENT_COLUMNS =
  'global_position, event_id, stream_id, version, type, schema_version, payload, metadata';

export function metadataOf(raw: Partial<EventMetadata> | null): EventMetadata {
  return {
    correlationId: raw?.correlationId ?? '',
    causationId: raw?.causationId ?? '',
    traceparent: raw?.traceparent ?? '',
    idempotencyKey: raw?.idempotencyKey ?? '',
  };
}

/** Decodes a stored row into the current schema; a row this code cannot read is a bug, so it throws. */
export function recordedEventOf(row: RawEventRow, tenantId: string): RecordedEvent {
  if (!isConversationEventType(row.type))
    throw new Error(`event ${row.event_id} has unknown type ${row.type}`);
  const metadata = metadataOf(row.metadata);
  const body = upcast({
    eventId: row.event_id,
    type: row.type,
    schemaVersion: row.schema_version,
    body: ConversationEventProto.decode(row.payload),
    metadata,
  });
  return {
    eventId: row.event_id,
    conversationId: row.stream_id,
    tenantId,
    version: row.version,
    globalPosition: Number(row.global_position),
    schemaVersion: CURRENT_SCHEMA_VERSION[row.type],
    storedSchemaVersion: row.schema_version,
    event: fromProto(body, `event ${row.event_id}`),
    metadata,
  };
}
