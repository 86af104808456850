import { type conversation, type common } from '@spillway/contracts';
import { DomainError } from '@spillway/errors';
import { currentTraceparent } from '@spillway/telemetry';
import type { EventMetadata } from '../../application/ports/conversation-event-store.port.js';
import type { CommandMetadata } from '../../application/conversation-commands.js';
import type { SubmittedEvent } from '../../application/append-events.js';
import { isConversationEventType, type Message } from '../../domain/conversation.events.js';
import {
  fromProto,
  fromProtoMessage,
  PROTO_CASE_OF,
} from '../protobuf/conversation-event.mapper.js';
import { ConversationEventProto } from '../protobuf/proto.js';

// Turns wire requests into application input. Every refusal is REQUEST.INVALID naming the field,
// which the gRPC error mapper sends as INVALID_ARGUMENT.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_ID_LENGTH = 200;

export function invalid(field: string, problem: string): DomainError {
  return new DomainError('REQUEST.INVALID', `${field} ${problem}`, { details: { field } });
}

/** A required identifier: present, not blank, bounded. */
export function requireId(value: string, field: string): string {
  if (value.trim() === '') throw invalid(field, 'must not be empty');
  if (value.length > MAX_ID_LENGTH)
    throw invalid(field, `must be at most ${MAX_ID_LENGTH} characters`);
  return value;
}

export function optionalId(value: string, field: string): string {
  return value === '' ? '' : requireId(value, field);
}

/** Correlation ids from the request; the trace context defaults to the call's own span. */
export function commandMetadata(metadata: conversation.EventMetadata | undefined): CommandMetadata {
  return {
    correlationId: metadata?.correlationId ?? '',
    causationId: metadata?.causationId ?? '',
    traceparent: metadata?.traceparent || (currentTraceparent() ?? ''),
  };
}

export function eventMetadata(metadata: conversation.EventMetadata | undefined): EventMetadata {
  return { ...commandMetadata(metadata), idempotencyKey: metadata?.idempotencyKey ?? '' };
}

export function messagesOf(messages: readonly common.ChatMessage[], field: string): Message[] {
  if (messages.length === 0) throw invalid(field, 'must hold at least one message');
  return messages.map((message, index) => {
    if (message.content === '') throw invalid(`${field}[${index}].content`, 'must not be empty');
    return fromProtoMessage(message);
  });
}

/** Decodes and checks the events of an AppendEvents request. */
export function submittedEvents(request: conversation.AppendEventsRequest): SubmittedEvent[] {
  if (request.events.length === 0) throw invalid('events', 'must hold at least one event');
  return request.events.map((stored, index) => {
    const field = `events[${index}]`;
    if (stored.eventId !== '' && !UUID.test(stored.eventId))
      throw invalid(`${field}.event_id`, 'must be a UUID or empty');
    if (!isConversationEventType(stored.type)) {
      throw invalid(
        `${field}.type`,
        `is ${JSON.stringify(stored.type)}, not a known event type (e.g. UserMessageAppended)`,
      );
    }
    let proto: ConversationEventProto;
    try {
      proto = ConversationEventProto.decode(stored.payload);
    } catch {
      throw invalid(`${field}.payload`, 'is not a serialized spillway.events.v1.ConversationEvent');
    }
    if (proto.event?.$case !== PROTO_CASE_OF[stored.type]) {
      throw invalid(
        `${field}.payload`,
        `holds ${proto.event?.$case ?? 'no event'}, but type says ${stored.type}`,
      );
    }
    // The request names the stream and tenant; a payload cannot move an event elsewhere.
    const envelope = {
      ...proto,
      conversationId: request.conversationId,
      tenantId: request.tenantId,
    };
    const occurredAtMs = proto.occurredAtMs || stored.occurredAtMs;
    const event = fromProto({ ...envelope, occurredAtMs }, `${field}.payload`);
    return {
      eventId: stored.eventId,
      event: occurredAtMs === 0 ? { ...event, occurredAtMs: Date.now() } : event,
    };
  });
}
