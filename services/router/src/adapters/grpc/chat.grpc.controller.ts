import type { chat } from '@spillway/contracts';
import type { CallContext, ServiceImplementation } from '@spillway/grpc';
import type {
  CloseConversation,
  Converse,
  GetConversation,
  ListConversations,
  ListModels,
  StartConversation,
} from '../../application/index.js';
import {
  toConverseCommand,
  toConverseResponse,
  toProtoConversation,
  toProtoModel,
} from './chat.mapper.js';

export interface ChatUseCases {
  readonly startConversation: StartConversation;
  readonly converse: Converse;
  readonly getConversation: GetConversation;
  readonly listConversations: ListConversations;
  readonly closeConversation: CloseConversation;
  readonly listModels: ListModels;
}

/** spillway.chat.v1.ChatService: translates messages and delegates to the use cases. */
export class ChatGrpcController implements ServiceImplementation<
  typeof chat.ChatServiceDefinition
> {
  constructor(private readonly useCases: ChatUseCases) {}

  async startConversation(
    request: chat.StartConversationRequest,
  ): Promise<chat.StartConversationResponse> {
    const view = await this.useCases.startConversation.execute({
      tenantId: request.tenantId,
      model: request.model,
      systemPrompt: request.systemPrompt,
      conversationId: request.conversationId,
      labels: request.labels,
    });
    return { conversation: toProtoConversation(view) };
  }

  async *converse(
    request: chat.ConverseRequest,
    context: CallContext,
  ): AsyncGenerator<chat.ConverseResponse, void, undefined> {
    for await (const event of this.useCases.converse.execute(
      toConverseCommand(request),
      context.signal,
    ))
      yield toConverseResponse(event);
  }

  async getConversation(
    request: chat.GetConversationRequest,
  ): Promise<chat.GetConversationResponse> {
    const view = await this.useCases.getConversation.execute(
      request.tenantId,
      request.conversationId,
    );
    return { conversation: toProtoConversation(view) };
  }

  async listConversations(
    request: chat.ListConversationsRequest,
  ): Promise<chat.ListConversationsResponse> {
    const page = await this.useCases.listConversations.execute(
      request.tenantId,
      request.pageSize,
      request.pageToken,
    );
    return {
      conversations: page.conversations.map(toProtoConversation),
      nextPageToken: page.nextPageToken,
    };
  }

  async closeConversation(
    request: chat.CloseConversationRequest,
  ): Promise<chat.CloseConversationResponse> {
    const view = await this.useCases.closeConversation.execute(
      request.tenantId,
      request.conversationId,
    );
    return { conversation: toProtoConversation(view) };
  }

  async listModels(): Promise<chat.ListModelsResponse> {
    return { models: this.useCases.listModels.execute().map(toProtoModel) };
  }
}
