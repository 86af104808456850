import { conversation as proto } from '@spillway/contracts';
import { isDomainError } from '@spillway/errors';
import { createGrpcClient, type GrpcClient } from '@spillway/grpc';
import { currentTraceparent } from '@spillway/telemetry';
import type {
  ContextLookup,
  MigrationConversationsPort,
  RecordMigration,
  RecordPin,
} from '../../application/migrate-conversations/index.js';
import { fromProtoMessages } from '../protobuf/common.mapper.js';

type StoreClient = GrpcClient<typeof proto.ConversationStoreDefinition>;

export interface GrpcMigrationConversationsOptions {
  readonly address: string;
  readonly deadlineMs: number;
  /** The budget GetContext cuts the prewarmed context to: the same one turns use. */
  readonly contextTokenBudget: number;
}

/** MigrationConversationsPort over conversation-state's ConversationStore. */
export class GrpcMigrationConversations implements MigrationConversationsPort {
  private readonly client: StoreClient;

  constructor(private readonly options: GrpcMigrationConversationsOptions) {
    this.client = createGrpcClient(proto.ConversationStoreDefinition, options.address, {
      defaultDeadlineMs: options.deadlineMs,
    });
  }

  close(): void {
    this.client.close();
  }

  async context(tenantId: string, conversationId: string): Promise<ContextLookup> {
    let response: proto.GetContextResponse;
    try {
      response = await this.client.getContext({
        tenantId,
        conversationId,
        tokenBudget: this.options.contextTokenBudget,
      });
    } catch (error) {
      if (isDomainError(error) && error.code === 'CONVERSATION.NOT_FOUND')
        return { kind: 'not-found' };
      throw error;
    }
    if (response.closed) return { kind: 'closed' };
    return {
      kind: 'found',
      context: {
        model: response.model,
        messages: fromProtoMessages(response.messages),
        estimatedTokens: response.estimatedTokens,
        recordedShardId: response.shardId,
      },
    };
  }

  async recordPin(command: RecordPin): Promise<void> {
    await this.client.pinConversation({
      tenantId: command.tenantId,
      conversationId: command.conversationId,
      shardId: command.shardId,
      reason: command.reason,
      metadata: eventMetadata(command.conversationId, command.causationId),
      assignmentVersion: command.assignmentVersion,
    });
  }

  async recordMigration(command: RecordMigration): Promise<boolean> {
    const metadata = eventMetadata(command.migrationId, command.causationId);
    const common = {
      tenantId: command.tenantId,
      conversationId: command.conversationId,
      migrationId: command.migrationId,
      fromShardId: command.fromShardId,
      reason: command.reason,
      metadata,
    };
    // A move the registry already applied has nothing left to start: it is recorded as done.
    if (command.assignmentVersion === 0) await this.client.startMigration(common);
    const completed = await this.client.completeMigration({
      ...common,
      toShardId: command.toShardId,
      assignmentVersion: command.assignmentVersion,
    });
    return completed.result?.duplicate !== true;
  }
}

/** The events' metadata: what they correlate with, what caused them, and this trace. */
function eventMetadata(correlationId: string, causationId: string): proto.EventMetadata {
  return {
    correlationId,
    causationId,
    traceparent: currentTraceparent() ?? '',
    idempotencyKey: '',
  };
}
