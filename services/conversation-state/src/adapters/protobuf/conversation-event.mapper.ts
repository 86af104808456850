import { common, mapping } from '@spillway/contracts';
import type { ConversationEventProto } from './proto.js';
import { DomainError } from '@spillway/errors';
import type {
  ConversationEvent,
  FinishReason,
  Message,
  Role,
} from '../../domain/conversation.events.js';

// The one translation between the domain's events and their protobuf form (storage, Kafka, gRPC).

type ProtoCase = NonNullable<ConversationEventProto['event']>['$case'];

/** Domain event type → the oneof case that carries it. */
export const PROTO_CASE_OF = {
  ConversationStarted: 'started',
  UserMessageAppended: 'userMessageAppended',
  AssistantMessageCompleted: 'assistantMessageCompleted',
  AssistantMessageFailed: 'assistantMessageFailed',
  ConversationPinned: 'pinned',
  ConversationMigrationStarted: 'migrationStarted',
  ConversationMigrated: 'migrated',
  ConversationClosed: 'closed',
} as const satisfies Record<ConversationEvent['type'], ProtoCase>;

export interface Envelope {
  readonly conversationId: string;
  readonly tenantId: string;
  readonly version: number;
}

export function toProto(event: ConversationEvent, envelope: Envelope): ConversationEventProto {
  return { ...envelope, occurredAtMs: event.occurredAtMs, event: protoBody(event) };
}

function protoBody(event: ConversationEvent): NonNullable<ConversationEventProto['event']> {
  switch (event.type) {
    case 'ConversationStarted': {
      const { model, systemPrompt, labels } = event.data;
      return { $case: 'started', value: { model, systemPrompt, labels: { ...labels } } };
    }
    case 'UserMessageAppended':
      return {
        $case: 'userMessageAppended',
        value: {
          turnId: event.data.turnId,
          messages: event.data.messages.map(toProtoMessage),
          idempotencyKey: event.data.idempotencyKey,
        },
      };
    case 'AssistantMessageCompleted': {
      const { turnId, content, shardId, finishReason, usage, failovers } = event.data;
      return {
        $case: 'assistantMessageCompleted',
        value: {
          turnId,
          content,
          shardId,
          finishReason: toProtoFinishReason(finishReason),
          usage: usage ? { ...usage } : undefined,
          failovers,
        },
      };
    }
    case 'AssistantMessageFailed':
      return { $case: 'assistantMessageFailed', value: { ...event.data } };
    case 'ConversationPinned':
      return { $case: 'pinned', value: { ...event.data } };
    case 'ConversationMigrationStarted':
      return { $case: 'migrationStarted', value: { ...event.data } };
    case 'ConversationMigrated':
      return { $case: 'migrated', value: { ...event.data } };
    case 'ConversationClosed':
      return { $case: 'closed', value: { ...event.data } };
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
}

/**
 * The domain event in a protobuf ConversationEvent. An empty oneof is a caller error, reported
 * against `field` (e.g. `events[2].payload`).
 */
export function fromProto(proto: ConversationEventProto, field: string): ConversationEvent {
  const body = proto.event;
  const occurredAtMs = proto.occurredAtMs;
  if (!body)
    throw new DomainError('REQUEST.INVALID', `${field} holds no event (the oneof is empty)`, {
      details: { field },
    });
  switch (body.$case) {
    case 'started': {
      const { model, systemPrompt, labels } = body.value;
      return {
        type: 'ConversationStarted',
        data: {
          conversationId: proto.conversationId,
          tenantId: proto.tenantId,
          model,
          systemPrompt,
          labels: { ...labels },
        },
        occurredAtMs,
      };
    }
    case 'userMessageAppended': {
      const { turnId, messages, idempotencyKey } = body.value;
      return {
        type: 'UserMessageAppended',
        data: { turnId, messages: messages.map(fromProtoMessage), idempotencyKey },
        occurredAtMs,
      };
    }
    case 'assistantMessageCompleted': {
      const { turnId, content, shardId, finishReason, usage, failovers } = body.value;
      return {
        type: 'AssistantMessageCompleted',
        data: {
          turnId,
          content,
          shardId,
          finishReason: fromProtoFinishReason(finishReason),
          usage: usage ? mapping.usageFromProto(usage) : undefined,
          failovers,
        },
        occurredAtMs,
      };
    }
    case 'assistantMessageFailed': {
      const { turnId, shardId, errorCode, errorMessage } = body.value;
      return {
        type: 'AssistantMessageFailed',
        data: { turnId, shardId, errorCode, errorMessage },
        occurredAtMs,
      };
    }
    case 'pinned':
      return {
        type: 'ConversationPinned',
        data: {
          shardId: body.value.shardId,
          reason: body.value.reason,
          assignmentVersion: body.value.assignmentVersion,
        },
        occurredAtMs,
      };
    case 'migrationStarted': {
      const { migrationId, fromShardId, reason } = body.value;
      return {
        type: 'ConversationMigrationStarted',
        data: { migrationId, fromShardId, reason },
        occurredAtMs,
      };
    }
    case 'migrated': {
      const { migrationId, fromShardId, toShardId, reason, assignmentVersion } = body.value;
      return {
        type: 'ConversationMigrated',
        data: { migrationId, fromShardId, toShardId, reason, assignmentVersion },
        occurredAtMs,
      };
    }
    case 'closed':
      return { type: 'ConversationClosed', data: { reason: body.value.reason }, occurredAtMs };
    default: {
      const unhandled: never = body;
      return unhandled;
    }
  }
}

export function toProtoMessage(message: Message): common.ChatMessage {
  return { role: toProtoRole(message.role), content: message.content, name: message.name };
}

export function fromProtoMessage(message: common.ChatMessage): Message {
  return { role: fromProtoRole(message.role), content: message.content, name: message.name };
}

export function toProtoRole(role: Role): common.Role {
  return mapping.roleToProto(role);
}

/** An unspecified role in a stored or submitted message is read as the user's. */
export function fromProtoRole(role: common.Role): Role {
  return mapping.roleFromProto(role) ?? 'user';
}

export function toProtoFinishReason(reason: FinishReason): common.FinishReason {
  return reason === 'unspecified'
    ? common.FinishReason.FINISH_REASON_UNSPECIFIED
    : mapping.finishReasonToProto(reason);
}

export function fromProtoFinishReason(reason: common.FinishReason): FinishReason {
  return mapping.finishReasonFromProto(reason) ?? 'unspecified';
}
