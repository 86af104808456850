import type { AssignmentView } from '../domain/index.js';
import type { ConversationRecord } from './conversation.port.js';

/** A conversation as ChatService shows it: the stored record plus the shard it is pinned to. */
export interface ConversationView extends ConversationRecord {
  /** Empty until its first turn is placed. */
  readonly shardId: string;
}

export function withShard(
  record: ConversationRecord,
  assignments: AssignmentView,
): ConversationView {
  return { ...record, shardId: assignments.shardOf(record.conversationId) ?? '' };
}
