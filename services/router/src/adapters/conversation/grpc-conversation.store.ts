import { conversation as proto } from '@spillway/contracts';
import { createGrpcClient, type GrpcClient } from '@spillway/grpc';
import type {
  AppendedTurn,
  AppendUserMessage,
  CompleteAssistantMessage,
  ConversationPage,
  ConversationPort,
  ConversationRecord,
  FailAssistantMessage,
  NewConversation,
  TurnContext,
} from '../../application/index.js';
import {
  fromProtoFinishReason,
  fromProtoMessages,
  toProtoFinishReason,
  toProtoMessages,
  toProtoUsage,
} from '../protobuf/common.mapper.js';

type StoreClient = GrpcClient<typeof proto.ConversationStoreDefinition>;

export interface GrpcConversationStoreOptions {
  readonly address: string;
  readonly deadlineMs: number;
  /** Prompt budget for GetContext, in the shards' tokens: oldest whole turns are cut beyond it. */
  readonly contextTokenBudget: number;
}

const NO_METADATA: proto.EventMetadata = {
  correlationId: '',
  causationId: '',
  traceparent: '',
  idempotencyKey: '',
};

/**
 * ConversationPort over conversation-state's gRPC ConversationStore: the durable, shared history
 * that replaces InMemoryConversationStore (select it with CONVERSATION_STORE_ADDRESS). Errors come
 * back as the store's DomainErrors (CONVERSATION.NOT_FOUND, CONVERSATION.CLOSED, ...).
 */
export class GrpcConversationStore implements ConversationPort {
  private readonly client: StoreClient;

  constructor(private readonly options: GrpcConversationStoreOptions) {
    this.client = createGrpcClient(proto.ConversationStoreDefinition, options.address, {
      defaultDeadlineMs: options.deadlineMs,
    });
  }

  /** Releases the channel (at shutdown). */
  disconnect(): void {
    this.client.close();
  }

  async start(command: NewConversation): Promise<ConversationRecord> {
    const started = await this.client.startConversation({
      tenantId: command.tenantId,
      conversationId: command.conversationId,
      model: command.model,
      systemPrompt: command.systemPrompt,
      labels: { ...command.labels },
      metadata: NO_METADATA,
    });
    return this.get(command.tenantId, started.conversationId);
  }

  async appendUserMessage(command: AppendUserMessage): Promise<AppendedTurn> {
    const response = await this.client.appendUserMessage({
      tenantId: command.tenantId,
      conversationId: command.conversationId,
      turnId: command.turnId,
      messages: toProtoMessages(command.messages),
      idempotencyKey: command.idempotencyKey,
      expectedVersion: undefined,
      metadata: NO_METADATA,
      // The answer carries the turn's context: no GetContext call after it.
      contextTokenBudget: this.options.contextTokenBudget,
    });
    const turn = response.turn;
    if (turn?.status === proto.TurnStatus.TURN_STATUS_COMPLETED) {
      return {
        kind: 'already-answered',
        turnId: response.turnId,
        reply: turn.reply,
        shardId: turn.shardId,
        finishReason: fromProtoFinishReason(turn.finishReason),
      };
    }
    const context = response.context === undefined ? undefined : turnContext(response.context);
    return response.result?.duplicate === true
      ? { kind: 'reopened', turnId: response.turnId, context }
      : { kind: 'opened', turnId: response.turnId, context };
  }

  async context(tenantId: string, conversationId: string): Promise<TurnContext> {
    return turnContext(
      await this.client.getContext({
        tenantId,
        conversationId,
        tokenBudget: this.options.contextTokenBudget,
      }),
    );
  }

  async completeAssistantMessage(command: CompleteAssistantMessage): Promise<void> {
    await this.client.completeAssistantMessage({
      tenantId: command.tenantId,
      conversationId: command.conversationId,
      turnId: command.turnId,
      content: command.content,
      shardId: command.shardId,
      finishReason: toProtoFinishReason(command.finishReason),
      usage: toProtoUsage(command.usage),
      failovers: command.failovers,
      expectedVersion: undefined,
      metadata: NO_METADATA,
    });
  }

  async failAssistantMessage(command: FailAssistantMessage): Promise<void> {
    await this.client.failAssistantMessage({
      tenantId: command.tenantId,
      conversationId: command.conversationId,
      turnId: command.turnId,
      shardId: command.shardId,
      errorCode: command.errorCode,
      errorMessage: command.errorMessage,
      expectedVersion: undefined,
      metadata: NO_METADATA,
    });
  }

  async get(tenantId: string, conversationId: string): Promise<ConversationRecord> {
    const { conversation } = await this.client.getConversation({ tenantId, conversationId });
    if (conversation === undefined)
      throw new Error('ConversationStore answered GetConversation without a conversation');
    return {
      conversationId: conversation.conversationId,
      tenantId: conversation.tenantId,
      model: conversation.model,
      systemPrompt: conversation.systemPrompt,
      messages: fromProtoMessages(conversation.messages),
      closed: conversation.closed,
      createdAtMs: conversation.createdAtMs,
      version: conversation.version,
      labels: conversation.labels,
    };
  }

  async list(tenantId: string, pageSize: number, pageToken: string): Promise<ConversationPage> {
    const page = await this.client.listConversations({ tenantId, pageSize, pageToken });
    return {
      // Summaries: the messages come with GetConversation.
      conversations: page.conversations.map((summary) => ({
        conversationId: summary.conversationId,
        tenantId: summary.tenantId,
        model: summary.model,
        systemPrompt: '',
        messages: [],
        closed: summary.closed,
        createdAtMs: summary.createdAtMs,
        version: summary.version,
        labels: {},
      })),
      nextPageToken: page.nextPageToken,
    };
  }

  async close(tenantId: string, conversationId: string): Promise<ConversationRecord> {
    await this.client.closeConversation({
      tenantId,
      conversationId,
      reason: 'closed by the caller',
      metadata: NO_METADATA,
    });
    return this.get(tenantId, conversationId);
  }
}

function turnContext(response: proto.GetContextResponse): TurnContext {
  return {
    model: response.model,
    messages: fromProtoMessages(response.messages),
    version: response.version,
  };
}
