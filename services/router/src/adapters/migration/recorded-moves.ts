import { isDomainError } from '@spillway/errors';
import type { LogPort } from '../../application/index.js';
import {
  migrationId,
  type MigrationConversationsPort,
  type MigrationReason,
} from '../../application/migrate-conversations/index.js';
import type {
  ConversationMove,
  ConversationMovesPort,
} from '../../application/place-turn/place-turn.js';
import type { ShardView } from '../../domain/index.js';

/**
 * Records the moves placement makes itself (a turn that failed over, a conversation re-routed off
 * its pool) as the saga records its own: one ConversationMigrated per move, keyed by the
 * assignment version it left, so a retry or a second replica records nothing twice. The pin has
 * already moved; this runs after it, in the background, and a record that fails is only logged:
 * the registry stays the authority on where the conversation lives.
 *
 * When the saga moved the conversation first, conversation-state refuses this record (its
 * migration starts from another shard than the stream's last one) and nothing is duplicated.
 */
export class RecordedMoves implements ConversationMovesPort {
  constructor(
    private readonly conversations: Pick<MigrationConversationsPort, 'recordMigration'>,
    private readonly shards: { get(shardId: string): ShardView | undefined },
    private readonly log: LogPort,
  ) {}

  moved(move: ConversationMove): void {
    const causeId = `${move.reason}@${move.fromVersion}`;
    this.conversations
      .recordMigration({
        tenantId: move.tenantId,
        conversationId: move.conversationId,
        migrationId: migrationId(move.fromShardId, causeId, move.conversationId),
        fromShardId: move.fromShardId,
        toShardId: move.toShardId,
        reason: this.reasonOf(move),
        causationId: causeId,
      })
      .catch((error: unknown) => this.notRecorded(move, error));
  }

  private reasonOf(move: ConversationMove): MigrationReason {
    if (move.reason === 'failover') return 'shard-failed';
    return this.shards.get(move.fromShardId)?.state === 'draining' ? 'shard-draining' : 'rerouted';
  }

  private notRecorded(move: ConversationMove, error: unknown): void {
    // A stateless conversation is pinned by its key and stored nowhere: nothing to record.
    if (isDomainError(error) && error.code === 'CONVERSATION.NOT_FOUND') return;
    this.log.info('conversation move not recorded', {
      conversationId: move.conversationId,
      from: move.fromShardId,
      to: move.toShardId,
      reason: move.reason,
      error: isDomainError(error) ? error.code : error instanceof Error ? error.message : '',
    });
  }
}
