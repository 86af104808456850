import type { Assignment, ShardView } from '../../domain/index.js';
import type { LogPort } from '../log.port.js';
import type {
  ConversationMigration,
  MigrateConversations,
} from './migrate-conversations.use-case.js';

export interface MigrateOnDemandDependencies {
  /** The router's local copy of the assignment map. */
  readonly assignments: { get(conversationId: string): Assignment | undefined };
  readonly shards: { get(shardId: string): ShardView | undefined };
  readonly saga: Pick<MigrateConversations, 'migrateOne'>;
  readonly log: LogPort;
}

/**
 * The saga's on-demand half. A turn for a conversation pinned to a shard that is gone (failed,
 * draining, removed, or unknown to this router) moves the conversation first, as the saga would
 * have on the shard's lifecycle event: ConversationMigrated recorded, the assignment
 * compare-and-set, the new shard prewarmed. The turn is then placed against the new pin like any
 * other. Checking costs two local lookups; only a conversation on a gone shard calls out.
 *
 * Racing the saga (or another replica's turn) is safe: both key the move by the same assignment
 * version, so conversation-state records one migration and the registry applies one pin.
 */
export class MigrateOnDemand {
  constructor(private readonly deps: MigrateOnDemandDependencies) {}

  /** Whether the conversation's pinned shard can no longer take its turns. */
  isOnGoneShard(conversationId: string): boolean {
    const assignment = this.deps.assignments.get(conversationId);
    if (assignment === undefined) return false;
    const state = this.deps.shards.get(assignment.shardId)?.state;
    return state !== 'ready' && state !== 'starting';
  }

  /**
   * Moves the conversation when its shard is gone; otherwise does nothing. Never throws: a move
   * that cannot be made now leaves placement to pick a shard for this turn, and the saga (or the
   * next turn) to record the move.
   */
  async beforeTurn(
    conversationId: string,
    traceHeaders: Readonly<Record<string, string>> = {},
  ): Promise<ConversationMigration | undefined> {
    if (!this.isOnGoneShard(conversationId)) return undefined;
    try {
      return await this.deps.saga.migrateOne(conversationId, 'shard-gone', traceHeaders);
    } catch (error) {
      this.deps.log.warn('on-demand migration failed; the turn is placed without it', {
        conversationId,
        error: error instanceof Error ? error.message : String(error),
      });
      return undefined;
    }
  }
}
