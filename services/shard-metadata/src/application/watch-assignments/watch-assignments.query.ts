import type { Assignment } from '../../domain/assignment.js';
import type { AssignmentMap } from '../assignments/assignment-map.js';

export type AssignmentWatchMessage =
  | {
      readonly kind: 'snapshot';
      readonly assignments: readonly Assignment[];
      readonly complete: boolean;
    }
  | { readonly kind: 'upserted'; readonly assignment: Assignment };

export interface WatchAssignmentsOptions {
  /** Assignments per snapshot message: a million do not fit one gRPC message. */
  readonly snapshotChunkSize: number;
  readonly maxBuffered: number;
}

/**
 * Every assignment (in one or more snapshot messages, the last marked complete), then every
 * committed change. A router replica keeps its local copy from this, and rebuilds it from here
 * after a restart.
 */
export class WatchAssignmentsQuery {
  constructor(
    private readonly assignments: AssignmentMap,
    private readonly options: WatchAssignmentsOptions,
  ) {}

  async *execute(signal: AbortSignal): AsyncGenerator<AssignmentWatchMessage, void, undefined> {
    const watch = this.assignments.watch({ signal, maxBuffered: this.options.maxBuffered });
    try {
      let chunk: Assignment[] = [];
      for (const assignment of watch.snapshot) {
        if (chunk.length === this.options.snapshotChunkSize) {
          yield { kind: 'snapshot', assignments: chunk, complete: false };
          chunk = [];
        }
        chunk.push(assignment);
      }
      yield { kind: 'snapshot', assignments: chunk, complete: true };
      for await (const assignment of watch.changes) yield { kind: 'upserted', assignment };
    } finally {
      watch.changes.close();
    }
  }
}
