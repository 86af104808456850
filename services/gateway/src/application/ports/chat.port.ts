import {
  type ChatMessage,
  type Conversation,
  type ModelInfo,
  type SamplingParams,
  type TurnEvent,
} from '../../domain/chat.js';
import { type Priority } from '../../domain/tenant.js';

export interface StartConversationCommand {
  readonly tenantId: string;
  readonly model: string;
  readonly systemPrompt: string;
  readonly conversationId?: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface ConverseCommand {
  readonly tenantId: string;
  /** Stored conversation, or just an affinity key when `stateless`. */
  readonly conversationId?: string;
  readonly model: string;
  readonly messages: readonly ChatMessage[];
  readonly sampling: SamplingParams;
  readonly priority: Priority;
  readonly idempotencyKey?: string;
  /** The messages are the whole history (OpenAI clients); nothing is appended to a stored conversation. */
  readonly stateless: boolean;
  readonly endUser?: string;
}

export interface ConversationPage {
  readonly conversations: readonly Conversation[];
  readonly nextPageToken: string;
}

/**
 * The router's ChatService as the gateway needs it. Every call is scoped by tenant; failures are
 * DomainErrors (CONVERSATION.NOT_FOUND, ADMISSION.SHED with a retry hint, ...).
 */
export interface ChatPort {
  startConversation(command: StartConversationCommand): Promise<Conversation>;
  /** Streams started → delta* → completed. Aborting `signal` cancels the turn on the router. */
  converse(
    command: ConverseCommand,
    options: { readonly signal: AbortSignal; readonly deadlineMs: number },
  ): AsyncIterable<TurnEvent>;
  getConversation(tenantId: string, conversationId: string): Promise<Conversation>;
  listConversations(
    tenantId: string,
    pageSize: number,
    pageToken: string,
  ): Promise<ConversationPage>;
  closeConversation(tenantId: string, conversationId: string): Promise<Conversation>;
  listModels(): Promise<readonly ModelInfo[]>;
}
