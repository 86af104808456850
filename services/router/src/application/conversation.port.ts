/** A message as the conversation stores it and an engine receives it. */
export type MessageRole = 'system' | 'user' | 'assistant' | 'tool';

export interface ConversationMessage {
  readonly role: MessageRole;
  readonly content: string;
  readonly name?: string | undefined;
}

export type TurnFinishReason = 'stop' | 'length' | 'cancelled' | 'error';

export interface TokenUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly totalTokens: number;
  readonly cachedPromptTokens: number;
}

/** A conversation as the router shows it to callers. */
export interface ConversationRecord {
  readonly conversationId: string;
  readonly tenantId: string;
  readonly model: string;
  readonly systemPrompt: string;
  /** The whole history as the model sees it: system prompt first, then every answered turn. */
  readonly messages: readonly ConversationMessage[];
  readonly closed: boolean;
  readonly createdAtMs: number;
  readonly version: number;
  readonly labels: Readonly<Record<string, string>>;
}

export interface NewConversation {
  readonly tenantId: string;
  /** Empty: the store picks one. */
  readonly conversationId: string;
  readonly model: string;
  readonly systemPrompt: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface AppendUserMessage {
  readonly tenantId: string;
  readonly conversationId: string;
  readonly turnId: string;
  readonly messages: readonly ConversationMessage[];
  /** A retry with the same key gets the original turn back instead of a second one. */
  readonly idempotencyKey: string;
}

export type AppendedTurn =
  | {
      readonly kind: 'opened';
      readonly turnId: string;
      /** The context for this turn, when the store answers the append with it (one call, not two). */
      readonly context?: TurnContext | undefined;
    }
  /** The key was seen before and that turn has its reply: answer with it, generate nothing. */
  | {
      readonly kind: 'already-answered';
      readonly turnId: string;
      readonly reply: string;
      readonly shardId: string;
      readonly finishReason: TurnFinishReason;
    }
  /** The key was seen before and that turn is still open (or failed): generate it again. */
  | {
      readonly kind: 'reopened';
      readonly turnId: string;
      readonly context?: TurnContext | undefined;
    };

/** The prompt of the next turn: everything the model must see, the new user message last. */
export interface TurnContext {
  readonly model: string;
  readonly messages: readonly ConversationMessage[];
  readonly version: number;
}

export interface CompleteAssistantMessage {
  readonly tenantId: string;
  readonly conversationId: string;
  readonly turnId: string;
  readonly content: string;
  readonly shardId: string;
  readonly finishReason: TurnFinishReason;
  readonly usage: TokenUsage;
  readonly failovers: number;
}

export interface FailAssistantMessage {
  readonly tenantId: string;
  readonly conversationId: string;
  readonly turnId: string;
  readonly shardId: string;
  readonly errorCode: string;
  readonly errorMessage: string;
}

export interface ConversationPage {
  readonly conversations: readonly ConversationRecord[];
  readonly nextPageToken: string;
}

/**
 * Conversation history. The router keeps none of its own: it reads and appends through this port
 * (in memory until conversation-state's ConversationStore serves it; see adapters/conversation/).
 * Missing conversations, and other tenants' conversations, are CONVERSATION.NOT_FOUND; appending
 * to a closed one is CONVERSATION.CLOSED (DomainErrors).
 */
export interface ConversationPort {
  start(command: NewConversation): Promise<ConversationRecord>;
  appendUserMessage(command: AppendUserMessage): Promise<AppendedTurn>;
  /** The messages for the next turn, under the store's token budget. */
  context(tenantId: string, conversationId: string): Promise<TurnContext>;
  completeAssistantMessage(command: CompleteAssistantMessage): Promise<void>;
  failAssistantMessage(command: FailAssistantMessage): Promise<void>;
  get(tenantId: string, conversationId: string): Promise<ConversationRecord>;
  list(tenantId: string, pageSize: number, pageToken: string): Promise<ConversationPage>;
  close(tenantId: string, conversationId: string): Promise<ConversationRecord>;
}
