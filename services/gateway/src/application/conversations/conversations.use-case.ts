import { DomainError } from '@spillway/errors';
import { type ChatMessage, type Conversation, type SamplingParams } from '../../domain/chat.js';
import { type Tenant } from '../../domain/tenant.js';
import { estimatePromptTokens } from '../../domain/token-estimate.js';
import { conversationNotFound } from '../errors.js';
import { type ChatPort, type ConversationPage } from '../ports/chat.port.js';
import { type ModelCatalog } from '../list-models/model-catalog.js';
import { type TurnOutcome, type TurnRunner } from '../run-turn/turn-runner.js';
import { KnownConversations } from './known-conversations.js';

export interface StartConversation {
  readonly tenant: Tenant;
  readonly model: string;
  readonly systemPrompt: string;
  readonly conversationId?: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface SendTurn {
  readonly tenant: Tenant;
  readonly conversationId: string;
  readonly messages: readonly ChatMessage[];
  readonly sampling: SamplingParams;
  readonly endUser?: string;
  readonly idempotencyKey?: string;
  readonly fingerprintMaterial: string;
}

/**
 * Spillway's stored conversations. The router scopes every call by tenant; the gateway checks the
 * owner of whatever comes back as well, so a router bug cannot show one tenant another's data.
 */
export class Conversations {
  constructor(
    private readonly chat: ChatPort,
    private readonly catalog: ModelCatalog,
    private readonly runner: TurnRunner,
    private readonly known = new KnownConversations(),
  ) {}

  async start(command: StartConversation): Promise<Conversation> {
    await this.catalog.assertServable(
      command.model,
      estimatePromptTokens([], command.systemPrompt),
      undefined,
    );
    const conversation = await this.chat.startConversation({
      tenantId: command.tenant.id,
      model: command.model,
      systemPrompt: command.systemPrompt,
      labels: command.labels,
      ...(command.conversationId !== undefined ? { conversationId: command.conversationId } : {}),
    });
    const owned = this.owned(command.tenant, conversation, conversation.id);
    this.known.remember(owned);
    return owned;
  }

  async get(tenant: Tenant, conversationId: string): Promise<Conversation> {
    return this.owned(
      tenant,
      await this.chat.getConversation(tenant.id, conversationId),
      conversationId,
    );
  }

  async list(tenant: Tenant, pageSize: number, pageToken: string): Promise<ConversationPage> {
    const page = await this.chat.listConversations(tenant.id, pageSize, pageToken);
    return { ...page, conversations: page.conversations.filter((c) => c.tenantId === tenant.id) };
  }

  async close(tenant: Tenant, conversationId: string): Promise<Conversation> {
    const conversation = this.owned(
      tenant,
      await this.chat.closeConversation(tenant.id, conversationId),
      conversationId,
    );
    this.known.closed(conversationId);
    return conversation;
  }

  /**
   * A conversation this replica knows is not read again before its turn: the router and
   * conversation-state refuse whatever changed meanwhile (closed elsewhere, another tenant's).
   */
  async sendTurn(command: SendTurn): Promise<TurnOutcome> {
    const conversation =
      this.known.get(command.tenant.id, command.conversationId) ??
      this.known.remember(await this.get(command.tenant, command.conversationId));
    if (conversation.closed) {
      throw new DomainError(
        'CONVERSATION.CLOSED',
        `Conversation '${conversation.id}' is closed; start a new one to continue.`,
        {
          details: { param: 'conversation_id' },
        },
      );
    }
    // The new messages' tokens, less the reply priming the history's estimate counts already.
    const messageTokens = estimatePromptTokens(command.messages) - estimatePromptTokens([]);
    const prompt = conversation.historyTokens + messageTokens;
    await this.catalog.assertServable(conversation.model, prompt, command.sampling.maxTokens);
    return this.runner.start({
      tenant: command.tenant,
      model: conversation.model,
      messages: command.messages,
      sampling: command.sampling,
      stateless: false,
      conversationId: conversation.id,
      cache: 'off',
      promptTokens: prompt,
      fingerprintMaterial: command.fingerprintMaterial,
      onCompleted: (turn) =>
        this.known.turnCompleted(
          conversation.id,
          turn.usage.promptTokens,
          turn.usage.completionTokens,
        ),
      onFailedAfterStored: () => this.known.turnFailed(conversation.id, messageTokens),
      ...(command.endUser !== undefined ? { endUser: command.endUser } : {}),
      ...(command.idempotencyKey !== undefined ? { idempotencyKey: command.idempotencyKey } : {}),
    });
  }

  private owned(tenant: Tenant, conversation: Conversation, requestedId: string): Conversation {
    if (conversation.tenantId !== tenant.id) throw conversationNotFound(requestedId);
    return conversation;
  }
}
