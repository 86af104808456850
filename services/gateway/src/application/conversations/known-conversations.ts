import { type Conversation } from '../../domain/chat.js';
import { estimatePromptTokens } from '../../domain/token-estimate.js';

/** What a turn needs to know about its conversation before it is sent. */
export interface KnownConversation {
  readonly id: string;
  readonly tenantId: string;
  readonly model: string;
  readonly closed: boolean;
  /** Tokens the stored history adds to the next turn's prompt: an estimate, then the last usage. */
  readonly historyTokens: number;
}

/**
 * The facts of recently used conversations, so that a turn need not read the whole conversation
 * (through the router, from conversation-state) before it is sent. Tenant, model and a closed flag
 * never change back; the history's size is re-learned from each turn's usage. A conversation
 * closed through another replica is still refused: conversation-state refuses the turn's append.
 * Least recently used entries go first beyond `capacity`.
 */
export class KnownConversations {
  private readonly entries = new Map<string, KnownConversation>();

  constructor(private readonly capacity = 20_000) {}

  /** The conversation's facts if this replica knows it as the tenant's. */
  get(tenantId: string, conversationId: string): KnownConversation | undefined {
    const known = this.entries.get(conversationId);
    if (known === undefined || known.tenantId !== tenantId) return undefined;
    // Re-inserted: a Map iterates in insertion order, so the first key is the least recently used.
    this.entries.delete(conversationId);
    this.entries.set(conversationId, known);
    return known;
  }

  /** Learns (or refreshes) a conversation as read from the router. */
  remember(conversation: Conversation): KnownConversation {
    const known: KnownConversation = {
      id: conversation.id,
      tenantId: conversation.tenantId,
      model: conversation.model,
      closed: conversation.closed,
      historyTokens: estimatePromptTokens(conversation.messages, conversation.systemPrompt),
    };
    this.entries.delete(conversation.id);
    this.entries.set(conversation.id, known);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    return known;
  }

  /** After a completed turn: the next prompt holds this one's prompt and its reply. */
  turnCompleted(conversationId: string, promptTokens: number, completionTokens: number): void {
    const known = this.entries.get(conversationId);
    if (known !== undefined) {
      this.entries.set(conversationId, {
        ...known,
        historyTokens: promptTokens + completionTokens,
      });
    }
  }

  /**
   * After a failed or cancelled turn whose messages the conversation kept: they are part of every
   * later prompt, though no usage reported them.
   */
  turnFailed(conversationId: string, messageTokens: number): void {
    const known = this.entries.get(conversationId);
    if (known !== undefined) {
      this.entries.set(conversationId, {
        ...known,
        historyTokens: known.historyTokens + messageTokens,
      });
    }
  }

  closed(conversationId: string): void {
    const known = this.entries.get(conversationId);
    if (known !== undefined) this.entries.set(conversationId, { ...known, closed: true });
  }
}
