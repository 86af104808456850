import type { PriorityTier } from '../domain/index.js';
import type { ConversationMessage, TokenUsage, TurnFinishReason } from './conversation.port.js';

export interface SamplingParams {
  readonly temperature?: number | undefined;
  readonly topP?: number | undefined;
  readonly maxTokens?: number | undefined;
  readonly stop?: readonly string[] | undefined;
  readonly seed?: number | undefined;
  readonly presencePenalty?: number | undefined;
  readonly frequencyPenalty?: number | undefined;
}

export interface GenerateRequest {
  readonly requestId: string;
  readonly conversationId: string;
  readonly tenantId: string;
  readonly model: string;
  readonly messages: readonly ConversationMessage[];
  readonly sampling: SamplingParams;
  readonly priority: PriorityTier;
  /** The reply text the caller already has from a shard that failed mid-stream. */
  readonly resumeFromText: string;
}

export type GenerateEvent =
  | { readonly kind: 'started'; readonly shardId: string; readonly promptTokens: number }
  | { readonly kind: 'delta'; readonly text: string }
  | {
      readonly kind: 'completed';
      readonly finishReason: TurnFinishReason;
      readonly usage: TokenUsage;
    };

/** Where a shard's inference adapter listens. */
export interface ShardAddress {
  readonly shardId: string;
  readonly endpoint: string;
}

/**
 * One shard's `Inference.Generate`. Failures are DomainErrors (SHARD.UNAVAILABLE when the shard is
 * unreachable or drops the stream); an abort of `signal` ends the call with an AbortError.
 */
export interface InferencePort {
  generate(
    shard: ShardAddress,
    request: GenerateRequest,
    signal: AbortSignal,
  ): AsyncIterable<GenerateEvent>;
}
