import { common, type inference } from '@spillway/contracts';
import { DomainError } from '@spillway/errors';
import type { EngineChatMessage, EngineSampling } from '../../application/engine.port.js';
import type {
  GenerateCommand,
  TurnEvent,
} from '../../application/generate-turn/generate-turn.use-case.js';
import type { TurnFinishReason } from '../../domain/finish-reason.js';

/** Translations between the Inference contract and the use cases' terms. */

export function toGenerateCommand(request: inference.GenerateRequest): GenerateCommand {
  return {
    requestId: request.requestId,
    conversationId: request.conversationId,
    tenantId: request.tenantId,
    model: request.model,
    messages: toEngineMessages(request.messages),
    sampling: toSampling(request.sampling),
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
  switch (role) {
    case common.Role.ROLE_SYSTEM:
      return 'system';
    case common.Role.ROLE_USER:
      return 'user';
    case common.Role.ROLE_ASSISTANT:
      return 'assistant';
    case common.Role.ROLE_TOOL:
      return 'tool';
    case common.Role.ROLE_UNSPECIFIED:
      throw new DomainError(
        'REQUEST.INVALID',
        `messages[${index}].role is not set; use ROLE_SYSTEM, ROLE_USER, ROLE_ASSISTANT or ROLE_TOOL`,
        {
          details: { field: `messages[${index}].role` },
        },
      );
    default: {
      const unknownRole: never = role;
      throw new DomainError(
        'REQUEST.INVALID',
        `messages[${index}].role ${String(unknownRole)} is not a known role`,
        {
          details: { field: `messages[${index}].role` },
        },
      );
    }
  }
}

function toSampling(sampling: common.SamplingParams | undefined): EngineSampling {
  if (!sampling) return {};
  const out: { -readonly [K in keyof EngineSampling]: EngineSampling[K] } = {};
  if (sampling.temperature !== undefined) out.temperature = sampling.temperature;
  if (sampling.topP !== undefined) out.topP = sampling.topP;
  if (sampling.maxTokens !== undefined) out.maxTokens = sampling.maxTokens;
  if (sampling.stop.length > 0) out.stop = sampling.stop;
  if (sampling.seed !== undefined) out.seed = sampling.seed;
  if (sampling.presencePenalty !== undefined) out.presencePenalty = sampling.presencePenalty;
  if (sampling.frequencyPenalty !== undefined) out.frequencyPenalty = sampling.frequencyPenalty;
  return out;
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
          value: { finishReason: toFinishReason(event.finishReason), usage: { ...event.usage } },
        },
      };
    default: {
      const unknownEvent: never = event;
      throw new Error(`unhandled turn event ${JSON.stringify(unknownEvent)}`);
    }
  }
}

function toFinishReason(reason: TurnFinishReason): common.FinishReason {
  switch (reason) {
    case 'stop':
      return common.FinishReason.FINISH_REASON_STOP;
    case 'length':
      return common.FinishReason.FINISH_REASON_LENGTH;
    case 'cancelled':
      return common.FinishReason.FINISH_REASON_CANCELLED;
    case 'error':
      return common.FinishReason.FINISH_REASON_ERROR;
    default: {
      const unknownReason: never = reason;
      return unknownReason;
    }
  }
}
