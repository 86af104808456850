import { DomainError } from '@spillway/errors';
import type {
  AppendedTurn,
  AppendUserMessage,
  Clock,
  CompleteAssistantMessage,
  ConversationMessage,
  ConversationPage,
  ConversationPort,
  ConversationRecord,
  FailAssistantMessage,
  IdGenerator,
  NewConversation,
  TurnContext,
  TurnFinishReason,
} from '../../application/index.js';

type TurnStatus = 'pending' | 'completed' | 'failed' | 'superseded';

interface StoredTurn {
  readonly turnId: string;
  readonly idempotencyKey: string;
  readonly messages: readonly ConversationMessage[];
  status: TurnStatus;
  reply: string;
  shardId: string;
  finishReason: TurnFinishReason;
}

interface StoredConversation {
  readonly conversationId: string;
  readonly tenantId: string;
  readonly model: string;
  readonly systemPrompt: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly createdAtMs: number;
  readonly turns: StoredTurn[];
  closed: boolean;
  version: number;
}

/**
 * Conversation history in this process, with the ConversationStore's rules (tenancy, closed
 * conversations, idempotent turns, a new turn superseding an unanswered one), until the router
 * reads and appends through conversation-state (adapters/conversation/grpc-conversation.store.ts
 * is the one-file swap). History is lost when the router restarts and is not shared between
 * router replicas: use it for one replica or for tests.
 */
export class InMemoryConversationStore implements ConversationPort {
  private readonly conversations = new Map<string, StoredConversation>();

  constructor(
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
  ) {}

  async start(command: NewConversation): Promise<ConversationRecord> {
    const conversationId = command.conversationId === '' ? this.ids.next() : command.conversationId;
    const existing = this.conversations.get(conversationId);
    if (existing !== undefined) {
      const same =
        existing.tenantId === command.tenantId &&
        existing.model === command.model &&
        existing.systemPrompt === command.systemPrompt;
      if (same) return toRecord(existing);
      throw new DomainError(
        'CONVERSATION.VERSION_CONFLICT',
        `conversation id ${conversationId} is already in use; leave conversation_id empty to get a new one`,
        { details: { field: 'conversation_id' } },
      );
    }
    const stored: StoredConversation = {
      conversationId,
      tenantId: command.tenantId,
      model: command.model,
      systemPrompt: command.systemPrompt,
      labels: { ...command.labels },
      createdAtMs: this.clock.nowMs(),
      turns: [],
      closed: false,
      version: 1,
    };
    this.conversations.set(conversationId, stored);
    return toRecord(stored);
  }

  async appendUserMessage(command: AppendUserMessage): Promise<AppendedTurn> {
    const conversation = this.find(command.tenantId, command.conversationId);
    if (command.idempotencyKey !== '') {
      const original = conversation.turns.find(
        (turn) => turn.idempotencyKey === command.idempotencyKey,
      );
      if (original?.status === 'completed') {
        return {
          kind: 'already-answered',
          turnId: original.turnId,
          reply: original.reply,
          shardId: original.shardId,
          finishReason: original.finishReason,
        };
      }
      if (original !== undefined) {
        this.requireOpen(conversation);
        this.supersedeOpenTurns(conversation, original.turnId);
        original.status = 'pending';
        conversation.version++;
        return { kind: 'reopened', turnId: original.turnId };
      }
    }
    this.requireOpen(conversation);
    this.supersedeOpenTurns(conversation, command.turnId);
    conversation.turns.push({
      turnId: command.turnId,
      idempotencyKey: command.idempotencyKey,
      messages: [...command.messages],
      status: 'pending',
      reply: '',
      shardId: '',
      finishReason: 'stop',
    });
    conversation.version++;
    return { kind: 'opened', turnId: command.turnId };
  }

  async context(tenantId: string, conversationId: string): Promise<TurnContext> {
    const conversation = this.find(tenantId, conversationId);
    const messages = history(conversation);
    for (const turn of conversation.turns)
      if (turn.status === 'pending') messages.push(...turn.messages);
    return { model: conversation.model, messages, version: conversation.version };
  }

  async completeAssistantMessage(command: CompleteAssistantMessage): Promise<void> {
    const turn = this.turn(command.tenantId, command.conversationId, command.turnId);
    if (turn.status === 'completed') {
      if (turn.reply === command.content) return;
      throw new DomainError(
        'TURN.ALREADY_COMPLETED',
        `turn ${command.turnId} already has its reply; start a new turn`,
      );
    }
    turn.status = 'completed';
    turn.reply = command.content;
    turn.shardId = command.shardId;
    turn.finishReason = command.finishReason;
    this.find(command.tenantId, command.conversationId).version++;
  }

  async failAssistantMessage(command: FailAssistantMessage): Promise<void> {
    const turn = this.turn(command.tenantId, command.conversationId, command.turnId);
    if (turn.status !== 'pending') return;
    turn.status = 'failed';
    turn.shardId = command.shardId;
    this.find(command.tenantId, command.conversationId).version++;
  }

  async get(tenantId: string, conversationId: string): Promise<ConversationRecord> {
    return toRecord(this.find(tenantId, conversationId));
  }

  async list(tenantId: string, pageSize: number, pageToken: string): Promise<ConversationPage> {
    const ids = [...this.conversations.values()]
      .filter((conversation) => conversation.tenantId === tenantId)
      .map((conversation) => conversation.conversationId)
      .filter((id) => pageToken === '' || id > pageToken)
      .sort();
    const page = ids.slice(0, pageSize);
    const last = page[page.length - 1];
    return {
      conversations: page.map((id) => toRecord(this.find(tenantId, id))),
      nextPageToken: ids.length > page.length && last !== undefined ? last : '',
    };
  }

  async close(tenantId: string, conversationId: string): Promise<ConversationRecord> {
    const conversation = this.find(tenantId, conversationId);
    if (!conversation.closed) {
      conversation.closed = true;
      conversation.version++;
    }
    return toRecord(conversation);
  }

  private find(tenantId: string, conversationId: string): StoredConversation {
    const conversation = this.conversations.get(conversationId);
    // Another tenant's conversation is answered exactly like a missing one.
    if (conversation?.tenantId !== tenantId) {
      throw new DomainError(
        'CONVERSATION.NOT_FOUND',
        `conversation ${conversationId} does not exist; StartConversation opens one`,
        { details: { field: 'conversation_id' } },
      );
    }
    return conversation;
  }

  private turn(tenantId: string, conversationId: string, turnId: string): StoredTurn {
    const turn = this.find(tenantId, conversationId).turns.find((t) => t.turnId === turnId);
    if (turn === undefined)
      throw new DomainError('REQUEST.INVALID', `turn ${turnId} is not part of ${conversationId}`);
    return turn;
  }

  private requireOpen(conversation: StoredConversation): void {
    if (conversation.closed) {
      throw new DomainError(
        'CONVERSATION.CLOSED',
        `conversation ${conversation.conversationId} is closed; start a new one`,
      );
    }
  }

  private supersedeOpenTurns(conversation: StoredConversation, except: string): void {
    for (const turn of conversation.turns)
      if (turn.status === 'pending' && turn.turnId !== except) turn.status = 'superseded';
  }
}

/** The system prompt, then every answered turn: its user message(s) and the reply. */
function history(conversation: StoredConversation): ConversationMessage[] {
  const messages: ConversationMessage[] = [];
  if (conversation.systemPrompt !== '')
    messages.push({ role: 'system', content: conversation.systemPrompt });
  for (const turn of conversation.turns) {
    if (turn.status !== 'completed') continue;
    messages.push(...turn.messages, { role: 'assistant', content: turn.reply });
  }
  return messages;
}

function toRecord(conversation: StoredConversation): ConversationRecord {
  return {
    conversationId: conversation.conversationId,
    tenantId: conversation.tenantId,
    model: conversation.model,
    systemPrompt: conversation.systemPrompt,
    messages: history(conversation),
    closed: conversation.closed,
    createdAtMs: conversation.createdAtMs,
    version: conversation.version,
    labels: conversation.labels,
  };
}
