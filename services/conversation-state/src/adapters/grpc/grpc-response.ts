import { conversation } from '@spillway/contracts';
import type {
  AppendOutcome,
  RecordedEvent,
} from '../../application/ports/conversation-event-store.port.js';
import type { ContextForTurn } from '../../application/conversation-queries.js';
import type { Message } from '../../domain/conversation.events.js';
import type { ConversationDetails, Turn, TurnStatus } from '../../domain/conversation.state.js';
import {
  toProto,
  toProtoFinishReason,
  toProtoMessage,
} from '../protobuf/conversation-event.mapper.js';
import { ConversationEventProto } from '../protobuf/proto.js';

export function commandResult(outcome: AppendOutcome): conversation.CommandResult {
  return {
    version: outcome.version,
    lastGlobalPosition: outcome.lastGlobalPosition,
    duplicate: outcome.duplicate,
  };
}

export function storedEvent(recorded: RecordedEvent): conversation.StoredEvent {
  const proto = toProto(recorded.event, {
    conversationId: recorded.conversationId,
    tenantId: recorded.tenantId,
    version: recorded.version,
  });
  return {
    eventId: recorded.eventId,
    conversationId: recorded.conversationId,
    tenantId: recorded.tenantId,
    version: recorded.version,
    globalPosition: recorded.globalPosition,
    type: recorded.event.type,
    schemaVersion: recorded.schemaVersion,
    payload: Buffer.from(ConversationEventProto.encode(proto).finish()),
    metadata: { ...recorded.metadata },
    occurredAtMs: recorded.event.occurredAtMs,
  };
}

export function contextResponse({
  conversation: state,
  window,
  pendingTurnId,
}: ContextForTurn): conversation.GetContextResponse {
  return {
    messages: window.messages.map(toProtoMessage),
    estimatedTokens: window.estimatedTokens,
    droppedMessages: window.droppedMessages,
    droppedTurns: window.droppedTurns,
    withinBudget: window.withinBudget,
    version: state.version,
    model: state.model,
    closed: state.status === 'closed',
    shardId: state.shardId,
    pendingTurnId,
  };
}

export function conversationView(
  state: ConversationDetails,
  history: readonly Message[],
): conversation.ConversationView {
  return {
    conversationId: state.conversationId,
    tenantId: state.tenantId,
    model: state.model,
    systemPrompt: state.systemPrompt,
    labels: { ...state.labels },
    messages: history.map(toProtoMessage),
    turns: state.turns.map(turnView),
    shardId: state.shardId,
    closed: state.status === 'closed',
    version: state.version,
    createdAtMs: state.createdAtMs,
    updatedAtMs: state.updatedAtMs,
    pendingTurnId:
      state.turns.at(-1)?.status === 'pending' ? (state.turns.at(-1)?.turnId ?? '') : '',
    migrationId: state.migration?.migrationId ?? '',
  };
}

export function turnView(turn: Turn): conversation.TurnView {
  return {
    turnId: turn.turnId,
    status: turnStatus(turn.status),
    version: turn.version,
    idempotencyKey: turn.idempotencyKey,
    shardId: turn.reply?.shardId ?? turn.failure?.shardId ?? '',
    reply: turn.reply?.content ?? '',
    finishReason: toProtoFinishReason(turn.reply?.finishReason ?? 'unspecified'),
    errorCode: turn.failure?.errorCode ?? '',
  };
}

function turnStatus(status: TurnStatus): conversation.TurnStatus {
  switch (status) {
    case 'pending':
      return conversation.TurnStatus.TURN_STATUS_PENDING;
    case 'completed':
      return conversation.TurnStatus.TURN_STATUS_COMPLETED;
    case 'failed':
      return conversation.TurnStatus.TURN_STATUS_FAILED;
    case 'superseded':
      return conversation.TurnStatus.TURN_STATUS_SUPERSEDED;
    default: {
      const unhandled: never = status;
      return unhandled;
    }
  }
}
