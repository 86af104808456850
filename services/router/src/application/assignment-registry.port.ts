import type { Assignment, PlacementReason } from '../domain/index.js';

export interface CompareAndSetAssignment {
  readonly conversationId: string;
  readonly tenantId: string;
  readonly shardId: string;
  /** 0 means "only if unassigned". */
  readonly expectedVersion: number;
  readonly reason: PlacementReason;
}

export interface CompareAndSetOutcome {
  readonly applied: boolean;
  /** The assignment as stored after the call, whether or not this call changed it. */
  readonly current: Assignment | undefined;
}

/** The shard registry's authoritative assignment map (shard-metadata's CompareAndSetAssignment). */
export interface AssignmentRegistryPort {
  compareAndSet(request: CompareAndSetAssignment): Promise<CompareAndSetOutcome>;
}
