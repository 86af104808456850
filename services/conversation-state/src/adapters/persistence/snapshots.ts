import type { ConversationDetails } from '../../domain/conversation.state.js';

/**
 * Bump when ConversationDetails changes shape: snapshots of another schema version are ignored and
 * the state is rebuilt from events (which are the truth; snapshots are only a cache).
 */
// v2: ConversationDetails.assignmentVersion.
export const SNAPSHOT_SCHEMA_VERSION = 2;

/** Whether appending moved the stream across a multiple of `every`. */
export function snapshotDue(fromVersion: number, toVersion: number, every: number): boolean {
  return every > 0 && Math.floor(fromVersion / every) !== Math.floor(toVersion / every);
}

export function snapshotJson(state: ConversationDetails): string {
  return JSON.stringify(state);
}

/** The stored JSON back as state; `migration: undefined` does not survive JSON, so restore it. */
export function stateFromSnapshot(value: unknown): ConversationDetails {
  const state = value as ConversationDetails;
  return { ...state, migration: state.migration ?? undefined };
}
