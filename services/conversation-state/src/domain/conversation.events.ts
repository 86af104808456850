// The facts of a conversation, past tense. These are the domain's own shapes; the protobuf
// ConversationEvent (proto/spillway/events/v1) is their wire and storage form, mapped in adapters.

export type Role = 'system' | 'user' | 'assistant' | 'tool';

export interface Message {
  readonly role: Role;
  readonly content: string;
  /** Author name; '' when absent. */
  readonly name: string;
}

export type FinishReason = 'unspecified' | 'stop' | 'length' | 'cancelled' | 'error';

export interface Usage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly totalTokens: number;
  readonly cachedPromptTokens: number;
}

interface Event<Type extends string, Data> {
  readonly type: Type;
  readonly data: Data;
  readonly occurredAtMs: number;
}

export type ConversationStarted = Event<
  'ConversationStarted',
  {
    readonly conversationId: string;
    readonly tenantId: string;
    readonly model: string;
    readonly systemPrompt: string;
    readonly labels: Readonly<Record<string, string>>;
  }
>;

export type UserMessageAppended = Event<
  'UserMessageAppended',
  {
    readonly turnId: string;
    readonly messages: readonly Message[];
    /** '' when the caller gave none. */
    readonly idempotencyKey: string;
  }
>;

export type AssistantMessageCompleted = Event<
  'AssistantMessageCompleted',
  {
    readonly turnId: string;
    readonly content: string;
    readonly shardId: string;
    readonly finishReason: FinishReason;
    readonly usage: Usage | undefined;
    readonly failovers: number;
  }
>;

export type AssistantMessageFailed = Event<
  'AssistantMessageFailed',
  {
    readonly turnId: string;
    readonly shardId: string;
    readonly errorCode: string;
    readonly errorMessage: string;
  }
>;

export type ConversationPinned = Event<
  'ConversationPinned',
  {
    readonly shardId: string;
    readonly reason: string;
    /**
     * The shard registry's assignment version this placement produced; 0 when the writer did not
     * say (events from before the field). The stream's shard follows the highest version recorded.
     */
    readonly assignmentVersion: number;
  }
>;

export type ConversationMigrationStarted = Event<
  'ConversationMigrationStarted',
  { readonly migrationId: string; readonly fromShardId: string; readonly reason: string }
>;

export type ConversationMigrated = Event<
  'ConversationMigrated',
  {
    readonly migrationId: string;
    readonly fromShardId: string;
    readonly toShardId: string;
    readonly reason: string;
    /**
     * The shard registry's assignment version this placement produced; 0 when the writer did not
     * say (events from before the field). The stream's shard follows the highest version recorded.
     */
    readonly assignmentVersion: number;
  }
>;

export type ConversationClosed = Event<'ConversationClosed', { readonly reason: string }>;

export type ConversationEvent =
  | ConversationStarted
  | UserMessageAppended
  | AssistantMessageCompleted
  | AssistantMessageFailed
  | ConversationPinned
  | ConversationMigrationStarted
  | ConversationMigrated
  | ConversationClosed;

export type ConversationEventType = ConversationEvent['type'];

export const CONVERSATION_EVENT_TYPES = [
  'ConversationStarted',
  'UserMessageAppended',
  'AssistantMessageCompleted',
  'AssistantMessageFailed',
  'ConversationPinned',
  'ConversationMigrationStarted',
  'ConversationMigrated',
  'ConversationClosed',
] as const satisfies readonly ConversationEventType[];

export function isConversationEventType(value: string): value is ConversationEventType {
  return (CONVERSATION_EVENT_TYPES as readonly string[]).includes(value);
}
