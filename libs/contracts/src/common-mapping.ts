import { DomainError } from '@spillway/errors';
import {
  FinishReason,
  Priority,
  Role,
  type SamplingParams,
  type Usage,
} from './generated/spillway/common/v1/common.js';

// Hand-written beside the generated code: the one translation between spillway.common.v1's enums
// and the plain names every service's domain uses. Each service keeps its own domain types; these
// names are structurally the same, so a service's type narrows or widens them without a copy.
//
// Reading an enum from the wire is total: proto3 enums are open, so an unknown number (a newer
// peer) reads like the unspecified value, never as an exception in a mapper.

export type RoleName = 'system' | 'user' | 'assistant' | 'tool';
export type PriorityName = 'batch' | 'low' | 'standard' | 'high' | 'critical';
export type FinishReasonName = 'stop' | 'length' | 'cancelled' | 'error';

const ROLES = {
  system: Role.ROLE_SYSTEM,
  user: Role.ROLE_USER,
  assistant: Role.ROLE_ASSISTANT,
  tool: Role.ROLE_TOOL,
} as const satisfies Record<RoleName, Role>;

const PRIORITIES = {
  batch: Priority.PRIORITY_BATCH,
  low: Priority.PRIORITY_LOW,
  standard: Priority.PRIORITY_STANDARD,
  high: Priority.PRIORITY_HIGH,
  critical: Priority.PRIORITY_CRITICAL,
} as const satisfies Record<PriorityName, Priority>;

const FINISH_REASONS = {
  stop: FinishReason.FINISH_REASON_STOP,
  length: FinishReason.FINISH_REASON_LENGTH,
  cancelled: FinishReason.FINISH_REASON_CANCELLED,
  error: FinishReason.FINISH_REASON_ERROR,
} as const satisfies Record<FinishReasonName, FinishReason>;

const ROLE_NAMES = invert<RoleName, Role>(ROLES);
const PRIORITY_NAMES = invert<PriorityName, Priority>(PRIORITIES);
const FINISH_REASON_NAMES = invert<FinishReasonName, FinishReason>(FINISH_REASONS);

export function roleToProto(role: RoleName): Role {
  return ROLES[role];
}

/** The role's name; `undefined` for ROLE_UNSPECIFIED or a number this build does not know. */
export function roleFromProto(role: Role): RoleName | undefined {
  return ROLE_NAMES.get(role);
}

/**
 * The role of a message a caller sent, which must be set: REQUEST.INVALID naming `field`
 * (e.g. `messages[2].role`) for ROLE_UNSPECIFIED or an unknown number.
 */
export function requiredRoleFromProto(role: Role, field: string): RoleName {
  const name = ROLE_NAMES.get(role);
  if (name !== undefined) return name;
  throw new DomainError(
    'REQUEST.INVALID',
    role === Role.ROLE_UNSPECIFIED
      ? `${field} is not set; use ROLE_SYSTEM, ROLE_USER, ROLE_ASSISTANT or ROLE_TOOL`
      : `${field} ${String(role)} is not a known role`,
    { details: { field } },
  );
}

export function priorityToProto(priority: PriorityName): Priority {
  return PRIORITIES[priority];
}

/** PRIORITY_UNSPECIFIED (and any unknown number) is the documented default, `standard`. */
export function priorityFromProto(priority: Priority): PriorityName {
  return PRIORITY_NAMES.get(priority) ?? 'standard';
}

export function finishReasonToProto(reason: FinishReasonName): FinishReason {
  return FINISH_REASONS[reason];
}

/** The reason's name; `undefined` for FINISH_REASON_UNSPECIFIED or an unknown number. */
export function finishReasonFromProto(reason: FinishReason): FinishReasonName | undefined {
  return FINISH_REASON_NAMES.get(reason);
}

/** Sampling parameters as the services' domains hold them: absent means "the engine's default". */
export interface Sampling {
  readonly temperature?: number;
  readonly topP?: number;
  readonly maxTokens?: number;
  readonly stop?: readonly string[];
  readonly seed?: number;
  readonly presencePenalty?: number;
  readonly frequencyPenalty?: number;
}

export function samplingToProto(sampling: Sampling): SamplingParams {
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

/** Only the parameters the caller set; an empty `stop` list is "not set". */
export function samplingFromProto(sampling: SamplingParams | undefined): Sampling {
  if (sampling === undefined) return {};
  const out: { -readonly [K in keyof Sampling]: Sampling[K] } = {};
  if (sampling.temperature !== undefined) out.temperature = sampling.temperature;
  if (sampling.topP !== undefined) out.topP = sampling.topP;
  if (sampling.maxTokens !== undefined) out.maxTokens = sampling.maxTokens;
  if (sampling.stop.length > 0) out.stop = [...sampling.stop];
  if (sampling.seed !== undefined) out.seed = sampling.seed;
  if (sampling.presencePenalty !== undefined) out.presencePenalty = sampling.presencePenalty;
  if (sampling.frequencyPenalty !== undefined) out.frequencyPenalty = sampling.frequencyPenalty;
  return out;
}

export interface TokenUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly totalTokens: number;
  readonly cachedPromptTokens: number;
}

/** A missing usage message counts as zero tokens. */
export function usageFromProto(usage: Usage | undefined): TokenUsage {
  return {
    promptTokens: usage?.promptTokens ?? 0,
    completionTokens: usage?.completionTokens ?? 0,
    totalTokens: usage?.totalTokens ?? 0,
    cachedPromptTokens: usage?.cachedPromptTokens ?? 0,
  };
}

function invert<Name extends string, Value>(table: Record<Name, Value>): Map<Value, Name> {
  return new Map(Object.entries(table).map(([name, value]) => [value as Value, name as Name]));
}
