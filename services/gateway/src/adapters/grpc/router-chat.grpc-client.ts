import { chat, mapping, type common } from '@spillway/contracts';
import { DomainError, isDomainError } from '@spillway/errors';
import { createGrpcClient, type GrpcClient } from '@spillway/grpc';
import { conversationNotFound } from '../../application/errors.js';
import {
  type ChatPort,
  type ConversationPage,
  type ConverseCommand,
  type StartConversationCommand,
} from '../../application/ports/chat.port.js';
import {
  type ChatMessage,
  type FinishReason,
  type Conversation,
  type ModelInfo,
  type Role,
  type TurnEvent,
} from '../../domain/chat.js';
import { type Priority } from '../../domain/tenant.js';

export interface RouterChatClientOptions {
  readonly address: string;
  /** Deadline of the unary calls; a turn's stream gets its own. */
  readonly deadlineMs: number;
}

/** ChatPort over the router's gRPC ChatService. */
export class RouterChatClient implements ChatPort {
  private readonly client: GrpcClient<typeof chat.ChatServiceDefinition>;

  constructor(options: RouterChatClientOptions) {
    this.client = createGrpcClient(chat.ChatServiceDefinition, options.address, {
      defaultDeadlineMs: options.deadlineMs,
      channelOptions: {
        'grpc.keepalive_time_ms': 30_000,
        'grpc.keepalive_timeout_ms': 10_000,
        'grpc.keepalive_permit_without_calls': 1,
      },
    });
  }

  close(): void {
    this.client.close();
  }

  async startConversation(command: StartConversationCommand): Promise<Conversation> {
    const response = await this.client.startConversation({
      tenantId: command.tenantId,
      model: command.model,
      systemPrompt: command.systemPrompt,
      conversationId: command.conversationId ?? '',
      labels: { ...command.labels },
    });
    return toConversation(required(response.conversation, 'StartConversation'));
  }

  async *converse(
    command: ConverseCommand,
    options: { readonly signal: AbortSignal; readonly deadlineMs: number },
  ): AsyncIterable<TurnEvent> {
    const stream = this.client.converse(
      {
        tenantId: command.tenantId,
        conversationId: command.conversationId ?? '',
        messages: command.messages.map(toProtoMessage),
        sampling: mapping.samplingToProto(command.sampling),
        priority: toProtoPriority(command.priority),
        idempotencyKey: command.idempotencyKey ?? '',
        ttftBudgetMs: 0,
        stateless: command.stateless,
        model: command.model,
        endUser: command.endUser ?? '',
      },
      { signal: options.signal, deadline: options.deadlineMs },
    );
    try {
      for await (const response of stream) {
        const event = response.event;
        if (!event) continue;
        switch (event.$case) {
          case 'started':
            yield { type: 'started', turnId: event.value.turnId, shardId: event.value.shardId };
            break;
          case 'delta':
            yield { type: 'delta', text: event.value.text };
            break;
          case 'completed':
            yield {
              type: 'completed',
              turnId: event.value.turnId,
              finishReason: finishReasonFromRouter(event.value.finishReason),
              usage: mapping.usageFromProto(event.value.usage),
            };
            break;
          default: {
            const unhandled: never = event;
            return unhandled;
          }
        }
      }
    } catch (error) {
      throw notFoundAware(error, command.conversationId);
    }
  }

  async getConversation(tenantId: string, conversationId: string): Promise<Conversation> {
    try {
      const response = await this.client.getConversation({ tenantId, conversationId });
      return toConversation(required(response.conversation, 'GetConversation'));
    } catch (error) {
      throw notFoundAware(error, conversationId);
    }
  }

  async listConversations(
    tenantId: string,
    pageSize: number,
    pageToken: string,
  ): Promise<ConversationPage> {
    const response = await this.client.listConversations({ tenantId, pageSize, pageToken });
    return {
      conversations: response.conversations.map(toConversation),
      nextPageToken: response.nextPageToken,
    };
  }

  async closeConversation(tenantId: string, conversationId: string): Promise<Conversation> {
    try {
      const response = await this.client.closeConversation({ tenantId, conversationId });
      return toConversation(required(response.conversation, 'CloseConversation'));
    } catch (error) {
      throw notFoundAware(error, conversationId);
    }
  }

  async listModels(): Promise<readonly ModelInfo[]> {
    const response = await this.client.listModels({});
    return response.models.map((model) => ({
      id: model.id,
      ownedBy: model.ownedBy,
      createdAtMs: model.createdAtMs,
      contextWindowTokens: model.contextWindowTokens,
    }));
  }
}

/**
 * Any "not found" for a conversation call becomes the gateway's own answer (one message, the
 * field named), including a bare NOT_FOUND status from a router that sent no domain code.
 */
function notFoundAware(error: unknown, conversationId: string | undefined): unknown {
  if (!isDomainError(error) || conversationId === undefined) return error;
  const bareNotFound = error.code === 'INTERNAL' && error.details.grpcStatus === 'NOT_FOUND';
  return error.code === 'CONVERSATION.NOT_FOUND' || bareNotFound
    ? conversationNotFound(conversationId)
    : error;
}

function required<T>(value: T | undefined, method: string): T {
  if (value === undefined)
    throw new DomainError('INTERNAL', `The router answered ${method} without a conversation.`);
  return value;
}

function toConversation(conversation: chat.Conversation): Conversation {
  const messages: ChatMessage[] = [];
  for (const message of conversation.messages) {
    const role = fromProtoRole(message.role);
    if (role)
      messages.push({
        role,
        content: message.content,
        ...(message.name !== '' ? { name: message.name } : {}),
      });
  }
  return {
    id: conversation.conversationId,
    tenantId: conversation.tenantId,
    model: conversation.model,
    systemPrompt: conversation.systemPrompt,
    messages,
    closed: conversation.closed,
    createdAtMs: conversation.createdAtMs,
    version: conversation.version,
    labels: { ...conversation.labels },
  };
}

function toProtoMessage(message: ChatMessage): common.ChatMessage {
  return {
    role: mapping.roleToProto(message.role),
    content: message.content,
    name: message.name ?? '',
  };
}

/** Tool messages are not part of the public API yet; they and unknown roles are not shown. */
function fromProtoRole(role: common.Role): Role | undefined {
  const name = mapping.roleFromProto(role);
  return name === 'tool' ? undefined : name;
}

export const toProtoPriority: (priority: Priority) => common.Priority = mapping.priorityToProto;

/**
 * OpenAI's clients know `stop` and `length`; a reply never ends with `error` there. The router
 * resumes a reply an engine ended with an error on another shard, so an `error` that still arrives
 * (a router that predates that) fails the turn with a retryable status instead of passing an
 * unknown finish reason to the client.
 */
export function finishReasonFromRouter(reason: common.FinishReason): FinishReason {
  const name = mapping.finishReasonFromProto(reason) ?? 'stop';
  if (name !== 'error') return name;
  throw new DomainError('SHARD.UNAVAILABLE', 'The engine ended the reply with an error; retry.', {
    retryAfterSeconds: 1,
  });
}
