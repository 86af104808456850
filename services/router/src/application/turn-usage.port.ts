import type { PriorityTier } from '../domain/index.js';
import type { TokenUsage, TurnFinishReason } from './conversation.port.js';

/** One record per finished turn (the `spillway.requests.v1` topic). */
export interface TurnUsage {
  readonly turnId: string;
  readonly conversationId: string;
  readonly tenantId: string;
  readonly model: string;
  readonly shardId: string;
  readonly priority: PriorityTier;
  readonly usage: TokenUsage;
  readonly finishReason: TurnFinishReason;
  readonly ttftMs: number;
  readonly durationMs: number;
  readonly failovers: number;
  readonly spilled: boolean;
  readonly completedAtMs: number;
}

/** Fire and forget: a lost usage record must never fail or delay the turn it describes. */
export interface TurnUsagePublisher {
  record(usage: TurnUsage): void;
}

export const NO_USAGE_PUBLISHER: TurnUsagePublisher = { record: () => undefined };
