/**
 * The gateway's own model of a chat turn, independent of HTTP (OpenAI JSON) and gRPC (ChatService).
 * Adapters translate into and out of these types.
 */

export type Role = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  readonly role: Role;
  readonly content: string;
  readonly name?: string;
}

export interface SamplingParams {
  readonly temperature?: number;
  readonly topP?: number;
  readonly maxTokens?: number;
  readonly stop?: readonly string[];
  readonly seed?: number;
  readonly presencePenalty?: number;
  readonly frequencyPenalty?: number;
}

export type FinishReason = 'stop' | 'length' | 'cancelled';

export interface Usage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly totalTokens: number;
  readonly cachedPromptTokens: number;
}

/** What the router streams back for one turn, in order: started, delta*, completed. */
export type TurnEvent =
  | { readonly type: 'started'; readonly turnId: string; readonly shardId: string }
  | { readonly type: 'delta'; readonly text: string }
  | {
      readonly type: 'completed';
      readonly turnId: string;
      readonly finishReason: FinishReason;
      readonly usage: Usage;
    };

/** A finished turn as a whole: what non-streaming clients get, and what caches and replays keep. */
export interface CompletedTurn {
  readonly turnId: string;
  readonly model: string;
  /** Unix seconds. */
  readonly createdAt: number;
  readonly content: string;
  readonly finishReason: FinishReason;
  readonly usage: Usage;
  readonly conversationId?: string;
}

export interface Conversation {
  readonly id: string;
  readonly tenantId: string;
  readonly model: string;
  readonly systemPrompt: string;
  readonly messages: readonly ChatMessage[];
  readonly closed: boolean;
  readonly createdAtMs: number;
  readonly version: number;
  readonly labels: Readonly<Record<string, string>>;
}

export interface ModelInfo {
  readonly id: string;
  readonly ownedBy: string;
  readonly createdAtMs: number;
  /** 0 when the router does not know. */
  readonly contextWindowTokens: number;
}

export const ZERO_USAGE: Usage = {
  promptTokens: 0,
  completionTokens: 0,
  totalTokens: 0,
  cachedPromptTokens: 0,
};

/** Folds a turn's events into its final text and outcome; the stream must have completed. */
export function foldTurn(
  events: readonly TurnEvent[],
  context: { readonly model: string; readonly createdAt: number; readonly conversationId?: string },
): CompletedTurn {
  let content = '';
  let completed: Extract<TurnEvent, { type: 'completed' }> | undefined;
  for (const event of events) {
    switch (event.type) {
      case 'started':
        break;
      case 'delta':
        content += event.text;
        break;
      case 'completed':
        completed = event;
        break;
      default: {
        const unhandled: never = event;
        return unhandled;
      }
    }
  }
  if (!completed) throw new Error('foldTurn: the turn has not completed');
  return {
    turnId: completed.turnId,
    model: context.model,
    createdAt: context.createdAt,
    content,
    finishReason: completed.finishReason,
    usage: completed.usage,
    ...(context.conversationId !== undefined ? { conversationId: context.conversationId } : {}),
  };
}
