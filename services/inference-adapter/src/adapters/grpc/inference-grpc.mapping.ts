import { common, mapping, type inference } from '@spillway/contracts';
import { DomainError } from '@spillway/errors';
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
    const role = toRole(message.role, index);
    return message.name
      ? { role, content: message.content, name: message.name }
      : { role, content: message.content };
  });
}

function toRole(role: common.Role, index: number): EngineChatMessage['role'] {
  const name = mapping.roleFromProto(role);
  if (name !== undefined) return name;
  throw new DomainError(
    'REQUEST.INVALID',
    role === common.Role.ROLE_UNSPECIFIED
      ? `messages[${index}].role is not set; use ROLE_SYSTEM, ROLE_USER, ROLE_ASSISTANT or ROLE_TOOL`
      : `messages[${index}].role ${String(role)} is not a known role`,
    { details: { field: `messages[${index}].role` } },
  );
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
