import { common, mapping } from '@spillway/contracts';
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

export function toProtoMessages(messages: readonly ConversationMessage[]): common.ChatMessage[] {
  return messages.map((message) => ({
    role: mapping.roleToProto(message.role),
    content: message.content,
    name: message.name ?? '',
  }));
}

export const fromProtoSampling: (sampling: common.SamplingParams | undefined) => SamplingParams =
  mapping.samplingFromProto;
export const toProtoSampling: (sampling: SamplingParams) => common.SamplingParams =
  mapping.samplingToProto;
export const toProtoPriority: (priority: PriorityTier) => common.Priority = mapping.priorityToProto;
export const fromProtoPriority: (priority: common.Priority) => PriorityTier =
  mapping.priorityFromProto;
export const toProtoFinishReason: (reason: TurnFinishReason) => common.FinishReason =
  mapping.finishReasonToProto;
export const fromProtoUsage: (usage: common.Usage | undefined) => TokenUsage =
  mapping.usageFromProto;

/** An unspecified reason is read as a normal stop. */
export function fromProtoFinishReason(reason: common.FinishReason): TurnFinishReason {
  return mapping.finishReasonFromProto(reason) ?? 'stop';
}

export function toProtoUsage(usage: TokenUsage): common.Usage {
  return { ...usage };
}
