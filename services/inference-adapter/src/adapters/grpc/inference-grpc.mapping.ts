import { mapping, type common, type inference } from '@spillway/contracts';
import type { EngineChatMessage } from '../../application/engine.port.js';
import type {
  GenerateCommand,
  TurnEvent,
} from '../../application/generate-turn/generate-turn.use-case.js';

/** Translations between the Inference contract and the use cases' terms. */

export function toGenerateCommand(request: inference.GenerateRequest): GenerateCommand {
  return {
    requestId: request.requestId,
    conversationId: request.conversationId,
    tenantId: request.tenantId,
    model: request.model,
    messages: toEngineMessages(request.messages),
    sampling: mapping.samplingFromProto(request.sampling),
    resumeFromText: request.resumeFromText,
  };
}

export function toEngineMessages(messages: readonly common.ChatMessage[]): EngineChatMessage[] {
  return messages.map((message, index) => {
    const role = mapping.requiredRoleFromProto(message.role, `messages[${index}].role`);
    return message.name
      ? { role, content: message.content, name: message.name }
      : { role, content: message.content };
  });
}

export function toGenerateResponse(event: TurnEvent): inference.GenerateResponse {
  switch (event.kind) {
    case 'started':
      return {
        event: {
          $case: 'started',
          value: { shardId: event.shardId, promptTokens: event.promptTokens },
        },
      };
    case 'delta':
      return { event: { $case: 'delta', value: { text: event.text } } };
    case 'completed':
      return {
        event: {
          $case: 'completed',
          value: {
            finishReason: mapping.finishReasonToProto(event.finishReason),
            usage: { ...event.usage },
          },
        },
      };
    default: {
      const unknownEvent: never = event;
      throw new Error(`unhandled turn event ${JSON.stringify(unknownEvent)}`);
    }
  }
}
