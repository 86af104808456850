import type { FinishReason, Message, Usage } from './conversation.events.js';

// What a caller asks of a conversation. `now` is passed in, so the decider never reads a clock.
interface Command<Type extends string, Data> {
  readonly type: Type;
  readonly conversationId: string;
  readonly data: Data;
  readonly now: number;
}

export type StartConversation = Command<
  'StartConversation',
  {
    readonly tenantId: string;
    readonly model: string;
    readonly systemPrompt: string;
    readonly labels: Readonly<Record<string, string>>;
  }
>;

export type AppendUserMessage = Command<
  'AppendUserMessage',
  {
    readonly turnId: string;
    readonly messages: readonly Message[];
    readonly idempotencyKey: string;
  }
>;

export type CompleteAssistantMessage = Command<
  'CompleteAssistantMessage',
  {
    readonly turnId: string;
    readonly content: string;
    readonly shardId: string;
    readonly finishReason: FinishReason;
    readonly usage: Usage | undefined;
    readonly failovers: number;
  }
>;

export type FailAssistantMessage = Command<
  'FailAssistantMessage',
  {
    readonly turnId: string;
    readonly shardId: string;
    readonly errorCode: string;
    readonly errorMessage: string;
  }
>;

export type PinConversation = Command<
  'PinConversation',
  {
    readonly shardId: string;
    readonly reason: string;
    /** The registry's version of this pin; 0: unknown (the pin applies as it always did). */
    readonly assignmentVersion: number;
  }
>;

export type StartMigration = Command<
  'StartMigration',
  { readonly migrationId: string; readonly fromShardId: string; readonly reason: string }
>;

export type CompleteMigration = Command<
  'CompleteMigration',
  {
    readonly migrationId: string;
    readonly fromShardId: string;
    readonly toShardId: string;
    readonly reason: string;
    /** The registry's version of this move; 0: unknown (from_shard_id must be the stream's shard). */
    readonly assignmentVersion: number;
  }
>;

export type CloseConversation = Command<'CloseConversation', { readonly reason: string }>;

export type ConversationCommand =
  | StartConversation
  | AppendUserMessage
  | CompleteAssistantMessage
  | FailAssistantMessage
  | PinConversation
  | StartMigration
  | CompleteMigration
  | CloseConversation;
