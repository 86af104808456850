import { Inject, Injectable } from '@nestjs/common';
import { conversation } from '@spillway/contracts';
import type { ServiceImplementation } from '@spillway/grpc';
import { AppendEvents } from '../../application/append-events.js';
import {
  ConversationCommands,
  type CommandTarget,
} from '../../application/conversation-commands.js';
import { ConversationQueries, tokenBudgetProblem } from '../../application/conversation-queries.js';
import type { Result } from '../../application/ports/conversation-event-store.port.js';
import { fromProtoFinishReason } from '../protobuf/conversation-event.mapper.js';
import {
  commandMetadata,
  eventMetadata,
  messagesOf,
  optionalId,
  requireId,
  submittedEvents,
} from './grpc-request.js';
import {
  commandResult,
  contextResponse,
  conversationView,
  storedEvent,
  turnView,
} from './grpc-response.js';
import { exists, findTurn } from '../../domain/conversation.state.js';

type Definition = typeof conversation.ConversationStoreDefinition;

/** ConversationStore over gRPC: validate and translate, delegate, translate back. */
@Injectable()
export class ConversationStoreGrpcController implements ServiceImplementation<Definition> {
  constructor(
    @Inject(ConversationCommands) private readonly commands: ConversationCommands,
    @Inject(AppendEvents) private readonly rawAppend: AppendEvents,
    @Inject(ConversationQueries) private readonly queries: ConversationQueries,
  ) {}

  async appendEvents(
    request: conversation.AppendEventsRequest,
  ): Promise<conversation.AppendEventsResponse> {
    const input = {
      tenantId: requireId(request.tenantId, 'tenant_id'),
      conversationId: requireId(request.conversationId, 'conversation_id'),
      expectedVersion: request.expectedVersion,
      events: submittedEvents(request),
      // One metadata for the batch: the first event's (a batch is one operation).
      metadata: eventMetadata(request.events[0]?.metadata),
    };
    const outcome = unwrap(await this.rawAppend.execute(input));
    return {
      nextVersion: outcome.version,
      lastGlobalPosition: outcome.lastGlobalPosition,
      duplicate: outcome.duplicate,
    };
  }

  async readStream(
    request: conversation.ReadStreamRequest,
  ): Promise<conversation.ReadStreamResponse> {
    const slice = unwrap(
      await this.queries.read(
        requireId(request.tenantId, 'tenant_id'),
        requireId(request.conversationId, 'conversation_id'),
        request.fromVersion,
        request.maxCount,
      ),
    );
    return { events: slice.events.map(storedEvent), currentVersion: slice.currentVersion };
  }

  async getContext(
    request: conversation.GetContextRequest,
  ): Promise<conversation.GetContextResponse> {
    const tenantId = requireId(request.tenantId, 'tenant_id');
    const conversationId = requireId(request.conversationId, 'conversation_id');
    return contextResponse(
      unwrap(await this.queries.context(tenantId, conversationId, request.tokenBudget)),
    );
  }

  async listConversations(
    request: conversation.ListConversationsRequest,
  ): Promise<conversation.ListConversationsResponse> {
    const page = unwrap(
      await this.queries.list(
        requireId(request.tenantId, 'tenant_id'),
        request.pageSize,
        request.pageToken,
      ),
    );
    return {
      conversations: page.conversations.map((summary) => ({ ...summary })),
      nextPageToken: page.nextPageToken,
    };
  }

  async getConversation(
    request: conversation.GetConversationRequest,
  ): Promise<conversation.GetConversationResponse> {
    const tenantId = requireId(request.tenantId, 'tenant_id');
    const conversationId = requireId(request.conversationId, 'conversation_id');
    const { conversation: state, history } = unwrap(
      await this.queries.conversation(tenantId, conversationId),
    );
    return { conversation: conversationView(state, history) };
  }

  async startConversation(
    request: conversation.StartConversationRequest,
  ): Promise<conversation.StartConversationResponse> {
    const target = {
      tenantId: requireId(request.tenantId, 'tenant_id'),
      conversationId: optionalId(request.conversationId, 'conversation_id'),
      metadata: commandMetadata(request.metadata),
    };
    const model = requireId(request.model, 'model');
    const outcome = unwrap(
      await this.commands.start(target, {
        tenantId: target.tenantId,
        model,
        systemPrompt: request.systemPrompt,
        labels: request.labels,
      }),
    );
    const state = outcome.state;
    return {
      result: commandResult(outcome),
      conversationId: state.status === 'absent' ? target.conversationId : state.conversationId,
    };
  }

  async appendUserMessage(
    request: conversation.AppendUserMessageRequest,
  ): Promise<conversation.AppendUserMessageResponse> {
    const target = this.target(request);
    const data = {
      turnId: optionalId(request.turnId, 'turn_id'),
      messages: messagesOf(request.messages, 'messages'),
      idempotencyKey: request.idempotencyKey,
    };
    const budget = request.contextTokenBudget;
    // Checked before the append: a bad budget must not leave a message appended.
    const badBudget = budget === 0 ? undefined : tokenBudgetProblem(budget, 'context_token_budget');
    if (badBudget) throw badBudget;
    const outcome = unwrap(await this.commands.appendUserMessage(target, data));
    const turnId = outcome.turnId ?? data.turnId;
    const state = exists(outcome.state) ? outcome.state : undefined;
    const turn = state ? findTurn(state, turnId) : undefined;
    return {
      result: commandResult(outcome),
      turnId,
      turn: turn ? turnView(turn) : undefined,
      // The state the append decided on is the context's source: no second read.
      context:
        budget > 0 && state ? contextResponse(this.queries.contextOf(state, budget)) : undefined,
    };
  }

  async completeAssistantMessage(
    request: conversation.CompleteAssistantMessageRequest,
  ): Promise<conversation.CompleteAssistantMessageResponse> {
    const outcome = unwrap(
      await this.commands.completeAssistantMessage(this.target(request), {
        turnId: requireId(request.turnId, 'turn_id'),
        content: request.content,
        shardId: requireId(request.shardId, 'shard_id'),
        finishReason: fromProtoFinishReason(request.finishReason),
        usage: request.usage ? { ...request.usage } : undefined,
        failovers: request.failovers,
      }),
    );
    return { result: commandResult(outcome) };
  }

  async failAssistantMessage(
    request: conversation.FailAssistantMessageRequest,
  ): Promise<conversation.FailAssistantMessageResponse> {
    const outcome = unwrap(
      await this.commands.failAssistantMessage(this.target(request), {
        turnId: requireId(request.turnId, 'turn_id'),
        shardId: request.shardId,
        errorCode: requireId(request.errorCode, 'error_code'),
        errorMessage: request.errorMessage,
      }),
    );
    return { result: commandResult(outcome) };
  }

  async pinConversation(
    request: conversation.PinConversationRequest,
  ): Promise<conversation.PinConversationResponse> {
    const outcome = unwrap(
      await this.commands.pin(this.target(request), {
        shardId: requireId(request.shardId, 'shard_id'),
        reason: request.reason,
        assignmentVersion: request.assignmentVersion,
      }),
    );
    return { result: commandResult(outcome) };
  }

  async startMigration(
    request: conversation.StartMigrationRequest,
  ): Promise<conversation.StartMigrationResponse> {
    const outcome = unwrap(
      await this.commands.startMigration(this.target(request), {
        migrationId: requireId(request.migrationId, 'migration_id'),
        fromShardId: request.fromShardId,
        reason: request.reason,
      }),
    );
    return { result: commandResult(outcome) };
  }

  async completeMigration(
    request: conversation.CompleteMigrationRequest,
  ): Promise<conversation.CompleteMigrationResponse> {
    const outcome = unwrap(
      await this.commands.completeMigration(this.target(request), {
        migrationId: requireId(request.migrationId, 'migration_id'),
        fromShardId: request.fromShardId,
        toShardId: requireId(request.toShardId, 'to_shard_id'),
        reason: request.reason,
        assignmentVersion: request.assignmentVersion,
      }),
    );
    return { result: commandResult(outcome) };
  }

  async closeConversation(
    request: conversation.CloseConversationRequest,
  ): Promise<conversation.CloseConversationResponse> {
    const outcome = unwrap(
      await this.commands.close(this.target(request), { reason: request.reason }),
    );
    return { result: commandResult(outcome) };
  }

  private target(request: {
    readonly tenantId: string;
    readonly conversationId: string;
    readonly expectedVersion?: number | undefined;
    readonly metadata?: conversation.EventMetadata | undefined;
  }): CommandTarget {
    return {
      tenantId: requireId(request.tenantId, 'tenant_id'),
      conversationId: requireId(request.conversationId, 'conversation_id'),
      expectedVersion: request.expectedVersion,
      metadata: commandMetadata(request.metadata),
    };
  }
}

/** A refusal travels as a thrown DomainError: the gRPC error mapper gives it its status. */
function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw result.error;
  return result.value;
}
