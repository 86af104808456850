import type { DomainError } from '@spillway/errors';
import { invalidField, shardDraining, shardFailed, shardNotFound, shardRemoved } from './errors.js';
import { acceptsAssignments, type ShardState } from './shard.js';
import { checkId, checkText } from './validation.js';

/** Where a conversation lives. `version` starts at 1 and grows by one with every change. */
export interface Assignment {
  readonly conversationId: string;
  readonly tenantId: string;
  readonly shardId: string;
  readonly version: number;
  readonly updatedAtMs: number;
  readonly reason: string;
}

export interface CompareAndSet {
  readonly conversationId: string;
  readonly tenantId: string;
  readonly shardId: string;
  /** 0: only if the conversation is unassigned. */
  readonly expectedVersion: number;
  readonly reason: string;
}

export type CompareAndSetOutcome =
  { readonly applied: true; readonly version: number } | { readonly applied: false };

/**
 * The compare-and-set rule: the write applies only when the stored version is the expected one
 * (no stored assignment counts as version 0), and then the version grows by one. A lost race is an
 * outcome, not an error: the caller gets the current assignment and decides again.
 * PostgreSQL enforces the same rule atomically (see the assignment repository).
 */
export function compareAndSet(
  currentVersion: number | undefined,
  request: Pick<CompareAndSet, 'expectedVersion'>,
): CompareAndSetOutcome {
  const stored = currentVersion ?? 0;
  return stored === request.expectedVersion
    ? { applied: true, version: stored + 1 }
    : { applied: false };
}

/** Replaces the older of two views of one assignment: the higher version wins. */
export function isNewer(
  candidate: Pick<Assignment, 'version'>,
  held: Pick<Assignment, 'version'> | undefined,
): boolean {
  return held === undefined || candidate.version > held.version;
}

export function validateCompareAndSet(request: CompareAndSet): DomainError | undefined {
  return (
    checkId('conversation_id', request.conversationId) ??
    checkId('shard_id', request.shardId) ??
    (request.tenantId === '' ? undefined : checkId('tenant_id', request.tenantId)) ??
    checkText('reason', request.reason) ??
    (Number.isSafeInteger(request.expectedVersion) && request.expectedVersion >= 0
      ? undefined
      : invalidField('expected_version', 'must be an integer >= 0 (0: only if unassigned)'))
  );
}

/** A conversation may be pinned only to a shard that exists and takes turns (or soon will). */
export function checkAssignableShard(
  shardId: string,
  state: ShardState | undefined,
): DomainError | undefined {
  if (state === undefined)
    return shardNotFound(shardId, 'assign conversations to registered shards only');
  if (acceptsAssignments(state)) return undefined;
  switch (state) {
    case 'draining':
      return shardDraining(shardId, 'it takes no new conversations');
    case 'failed':
      return shardFailed(shardId, 'it takes no new conversations');
    case 'removed':
      return shardRemoved(shardId);
    case 'starting':
    case 'ready':
      return undefined;
    default: {
      const unhandled: never = state;
      return unhandled;
    }
  }
}
