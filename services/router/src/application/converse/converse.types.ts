import type { PlacementReason, PriorityTier } from '../../domain/index.js';
import type { ConversationMessage, TokenUsage, TurnFinishReason } from '../conversation.port.js';
import type { SamplingParams } from '../inference.port.js';

export interface ConverseCommand {
  readonly tenantId: string;
  /** Empty: a new conversation (or, for a stateless turn, one keyed by its opening messages). */
  readonly conversationId: string;
  /** The turn's new message(s); for a stateless turn, the whole history. */
  readonly messages: readonly ConversationMessage[];
  readonly sampling: SamplingParams;
  readonly priority: PriorityTier;
  readonly idempotencyKey: string;
  /** Time-to-first-token budget; 0 means the tier's default. */
  readonly ttftBudgetMs: number;
  readonly stateless: boolean;
  /** Empty: the conversation's model. */
  readonly model: string;
}

/** Why TurnStarted names its shard: a placement reason, or a replay of an answered turn. */
export type StartReason = PlacementReason | 'replay';

export type ConverseEvent =
  | {
      readonly kind: 'started';
      readonly turnId: string;
      readonly shardId: string;
      readonly reason: StartReason;
    }
  | { readonly kind: 'delta'; readonly text: string; readonly index: number }
  | {
      readonly kind: 'completed';
      readonly turnId: string;
      /** The shard that finished the turn (the last one, after failovers). */
      readonly shardId: string;
      readonly finishReason: TurnFinishReason;
      readonly usage: TokenUsage;
      readonly failovers: number;
    };
