import type { Assignment, CompareAndSet } from '../../domain/assignment.js';

export const ASSIGNMENT_REPOSITORY = Symbol('AssignmentRepository');

export interface CompareAndSetResult {
  readonly applied: boolean;
  /** As stored once the call returned; undefined when the conversation has no assignment. */
  readonly current: Assignment | undefined;
}

/** The authoritative assignment map. Implementations apply the compare-and-set rule atomically. */
export interface AssignmentRepository {
  /** Streams every stored assignment in batches; resolves with how many there were. */
  loadAll(onBatch: (batch: readonly Assignment[]) => void): Promise<number>;
  compareAndSet(request: CompareAndSet, nowMs: number): Promise<CompareAndSetResult>;
  /**
   * Assignments on one shard (every shard when `shardId` is empty) ordered by conversation id,
   * starting after `afterConversationId`.
   */
  listByShard(shardId: string, limit: number, afterConversationId: string): Promise<Assignment[]>;
}
