import { mapping, type common } from '@spillway/contracts';
import type {
  ConversationMessage,
  SamplingParams,
  TokenUsage,
  TurnFinishReason,
} from '../../application/index.js';
import type { PriorityTier } from '../../domain/index.js';

/** Translations between spillway.common.v1 and the router's terms, shared by every gRPC adapter. */

export function fromProtoMessages(messages: readonly common.ChatMessage[]): ConversationMessage[] {
  return messages.map((message, index) => {
    const role = mapping.requiredRoleFromProto(message.role, `messages[${index}].role`);
    return message.name === ''
      ? { role, content: message.content }
      : { role, content: message.content, name: message.name };
  });
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
