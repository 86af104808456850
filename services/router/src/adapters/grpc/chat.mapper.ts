import type { chat } from '@spillway/contracts';
import type {
  ConverseCommand,
  ConverseEvent,
  ConversationView,
  ModelInfo,
} from '../../application/index.js';
import {
  fromProtoMessages,
  fromProtoPriority,
  fromProtoSampling,
  toProtoFinishReason,
  toProtoMessages,
  toProtoUsage,
} from '../protobuf/common.mapper.js';

/** Translations between spillway.chat.v1 and the use cases' terms. */

export function toConverseCommand(request: chat.ConverseRequest): ConverseCommand {
  return {
    tenantId: request.tenantId,
    conversationId: request.conversationId,
    messages: fromProtoMessages(request.messages),
    sampling: fromProtoSampling(request.sampling),
    priority: fromProtoPriority(request.priority),
    idempotencyKey: request.idempotencyKey,
    ttftBudgetMs: request.ttftBudgetMs,
    stateless: request.stateless,
    model: request.model,
  };
}

export function toConverseResponse(event: ConverseEvent): chat.ConverseResponse {
  switch (event.kind) {
    case 'started':
      return {
        event: {
          $case: 'started',
          value: { turnId: event.turnId, shardId: event.shardId, placementReason: event.reason },
        },
      };
    case 'delta':
      return { event: { $case: 'delta', value: { text: event.text, index: event.index } } };
    case 'completed':
      return {
        event: {
          $case: 'completed',
          value: {
            turnId: event.turnId,
            finishReason: toProtoFinishReason(event.finishReason),
            usage: toProtoUsage(event.usage),
            failovers: event.failovers,
            shardId: event.shardId,
          },
        },
      };
    default: {
      const unknown: never = event;
      throw new Error(`unknown converse event ${JSON.stringify(unknown)}`);
    }
  }
}

export function toProtoConversation(view: ConversationView): chat.Conversation {
  return {
    conversationId: view.conversationId,
    tenantId: view.tenantId,
    model: view.model,
    systemPrompt: view.systemPrompt,
    messages: toProtoMessages(view.messages),
    shardId: view.shardId,
    closed: view.closed,
    createdAtMs: view.createdAtMs,
    version: view.version,
    labels: { ...view.labels },
  };
}

export function toProtoModel(model: ModelInfo): chat.Model {
  return {
    id: model.id,
    ownedBy: model.ownedBy,
    createdAtMs: model.createdAtMs,
    // The registry does not know the engines' context windows yet.
    contextWindowTokens: 0,
  };
}
