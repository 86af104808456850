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
  ConversationPin,
} from '../../application/place-turn/place-turn.js';
import type { ShardView } from '../../domain/index.js';

/** What the records need of conversation-state. */
export type MoveRecords = Pick<MigrationConversationsPort, 'recordMigration' | 'recordPin'>;

/**
 * Records the moves placement makes itself (a turn that failed over, a conversation re-routed off
 * its pool) as the saga records its own: one ConversationMigrated per move, keyed by the
 * assignment version it left, so a retry or a second replica records nothing twice. The pin has
 * already moved; this runs after it, in the background, and a record that fails is only logged:
 * the registry stays the authority on where the conversation lives.
 *
 * When the saga moved the conversation first, conversation-state refuses this record (its
 * migration starts from another shard than the stream's last one) and nothing is duplicated.
 *
 * A stored conversation's first pin and its spills are recorded as ConversationPinned, so that
 * the stream's shard follows the registry's and a later move off the spill target is recorded
 * rather than refused. Recorded after the pin applied, in the background: a pin and a move of the
 * same conversation within one round trip of each other can still land out of order.
 */
export class RecordedMoves implements ConversationMovesPort {
  constructor(
    private readonly conversations: MoveRecords,
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
        assignmentVersion: move.toVersion,
      })
      .catch((error: unknown) =>
        this.notRecorded(
          {
            conversationId: move.conversationId,
            from: move.fromShardId,
            to: move.toShardId,
            reason: move.reason,
          },
          error,
        ),
      );
  }

  pinned(pin: ConversationPin): void {
    this.conversations
      .recordPin({
        tenantId: pin.tenantId,
        conversationId: pin.conversationId,
        shardId: pin.shardId,
        reason: pin.reason,
        causationId: `${pin.reason}@${pin.fromVersion}`,
        assignmentVersion: pin.toVersion,
      })
      .catch((error: unknown) =>
        this.notRecorded(
          { conversationId: pin.conversationId, to: pin.shardId, reason: pin.reason },
          error,
        ),
      );
  }

  private reasonOf(move: ConversationMove): MigrationReason {
    if (move.reason === 'failover') return 'shard-failed';
    return this.shards.get(move.fromShardId)?.state === 'draining' ? 'shard-draining' : 'rerouted';
  }

  private notRecorded(record: Record<string, string>, error: unknown): void {
    // A stateless conversation is pinned by its key and stored nowhere: nothing to record.
    if (isDomainError(error) && error.code === 'CONVERSATION.NOT_FOUND') return;
    this.log.info('conversation move not recorded', {
      ...record,
      error: isDomainError(error) ? error.code : error instanceof Error ? error.message : '',
    });
  }
}
