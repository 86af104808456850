import { common } from '@spillway/contracts';
import { DomainError } from '@spillway/errors';
import type {
  ConversationMessage,
  MessageRole,
  SamplingParams,
  TokenUsage,
  TurnFinishReason,
} from '../../application/index.js';
import type { PriorityTier } from '../../domain/index.js';

/** Translations between spillway.common.v1 and the router's terms, shared by every gRPC adapter. */

export function fromProtoMessages(messages: readonly common.ChatMessage[]): ConversationMessage[] {
  return messages.map((message, index) => {
    const role = fromProtoRole(message.role, index);
    return message.name === ''
      ? { role, content: message.content }
      : { role, content: message.content, name: message.name };
  });
}

function fromProtoRole(role: common.Role, index: number): MessageRole {
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
        { details: { field: `messages[${index}].role` } },
      );
    default: {
      const unknown: never = role;
      throw new DomainError(
        'REQUEST.INVALID',
        `messages[${index}].role ${String(unknown)} is not a known role`,
        { details: { field: `messages[${index}].role` } },
      );
    }
  }
}

export function toProtoMessages(messages: readonly ConversationMessage[]): common.ChatMessage[] {
  return messages.map((message) => ({
    role: toProtoRole(message.role),
    content: message.content,
    name: message.name ?? '',
  }));
}

function toProtoRole(role: MessageRole): common.Role {
  switch (role) {
    case 'system':
      return common.Role.ROLE_SYSTEM;
    case 'user':
      return common.Role.ROLE_USER;
    case 'assistant':
      return common.Role.ROLE_ASSISTANT;
    case 'tool':
      return common.Role.ROLE_TOOL;
    default: {
      const unknown: never = role;
      return unknown;
    }
  }
}

export function fromProtoSampling(sampling: common.SamplingParams | undefined): SamplingParams {
  if (sampling === undefined) return {};
  return {
    ...(sampling.temperature === undefined ? {} : { temperature: sampling.temperature }),
    ...(sampling.topP === undefined ? {} : { topP: sampling.topP }),
    ...(sampling.maxTokens === undefined ? {} : { maxTokens: sampling.maxTokens }),
    ...(sampling.stop.length === 0 ? {} : { stop: [...sampling.stop] }),
    ...(sampling.seed === undefined ? {} : { seed: sampling.seed }),
    ...(sampling.presencePenalty === undefined
      ? {}
      : { presencePenalty: sampling.presencePenalty }),
    ...(sampling.frequencyPenalty === undefined
      ? {}
      : { frequencyPenalty: sampling.frequencyPenalty }),
  };
}

export function toProtoSampling(sampling: SamplingParams): common.SamplingParams {
  return {
    temperature: sampling.temperature,
    topP: sampling.topP,
    maxTokens: sampling.maxTokens,
    stop: [...(sampling.stop ?? [])],
    seed: sampling.seed,
    presencePenalty: sampling.presencePenalty,
    frequencyPenalty: sampling.frequencyPenalty,
  };
}

const PRIORITIES: Record<PriorityTier, common.Priority> = {
  batch: common.Priority.PRIORITY_BATCH,
  low: common.Priority.PRIORITY_LOW,
  standard: common.Priority.PRIORITY_STANDARD,
  high: common.Priority.PRIORITY_HIGH,
  critical: common.Priority.PRIORITY_CRITICAL,
};

export function toProtoPriority(priority: PriorityTier): common.Priority {
  return PRIORITIES[priority];
}

export function fromProtoPriority(priority: common.Priority): PriorityTier {
  switch (priority) {
    case common.Priority.PRIORITY_BATCH:
      return 'batch';
    case common.Priority.PRIORITY_LOW:
      return 'low';
    case common.Priority.PRIORITY_UNSPECIFIED:
    case common.Priority.PRIORITY_STANDARD:
      return 'standard';
    case common.Priority.PRIORITY_HIGH:
      return 'high';
    case common.Priority.PRIORITY_CRITICAL:
      return 'critical';
    default: {
      const unknown: never = priority;
      return unknown;
    }
  }
}

export function fromProtoFinishReason(reason: common.FinishReason): TurnFinishReason {
  switch (reason) {
    case common.FinishReason.FINISH_REASON_STOP:
    case common.FinishReason.FINISH_REASON_UNSPECIFIED:
      return 'stop';
    case common.FinishReason.FINISH_REASON_LENGTH:
      return 'length';
    case common.FinishReason.FINISH_REASON_CANCELLED:
      return 'cancelled';
    case common.FinishReason.FINISH_REASON_ERROR:
      return 'error';
    default: {
      const unknown: never = reason;
      return unknown;
    }
  }
}

export function toProtoFinishReason(reason: TurnFinishReason): common.FinishReason {
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
      const unknown: never = reason;
      return unknown;
    }
  }
}

export function fromProtoUsage(usage: common.Usage | undefined): TokenUsage {
  return {
    promptTokens: usage?.promptTokens ?? 0,
    completionTokens: usage?.completionTokens ?? 0,
    totalTokens: usage?.totalTokens ?? 0,
    cachedPromptTokens: usage?.cachedPromptTokens ?? 0,
  };
}

export function toProtoUsage(usage: TokenUsage): common.Usage {
  return { ...usage };
}
