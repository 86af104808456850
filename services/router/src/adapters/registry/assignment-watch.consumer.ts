import type { shard as proto } from '@spillway/contracts';
import type { LogPort } from '../../application/index.js';
import type { Assignment, AssignmentView } from '../../domain/index.js';
import { WATCH_DEADLINE_MS, type RegistryClient } from './registry-client.js';

export function toAssignment(assignment: proto.Assignment): Assignment {
  return {
    conversationId: assignment.conversationId,
    shardId: assignment.shardId,
    version: assignment.version,
  };
}

/**
 * Keeps the router's AssignmentView current from WatchAssignments: the snapshot (one or more
 * messages, the last marked complete), then every change. An assignment is applied only when its
 * version is newer than the one held, so a re-watch's snapshot and the router's own compare-and-set
 * answers can arrive in any order.
 */
export class AssignmentWatchConsumer {
  constructor(
    private readonly client: RegistryClient,
    private readonly view: AssignmentView,
    private readonly log: LogPort,
  ) {}

  readonly consume = async (signal: AbortSignal, healthy: () => void): Promise<void> => {
    let snapshotSize = 0;
    const stream = this.client.watchAssignments({}, { signal, deadline: WATCH_DEADLINE_MS });
    for await (const message of stream) {
      const change = message.change;
      if (change === undefined) continue;
      switch (change.$case) {
        case 'snapshot':
          for (const assignment of change.value.assignments)
            this.view.applyRemote(toAssignment(assignment));
          snapshotSize += change.value.assignments.length;
          if (change.value.complete) {
            this.log.info('assignment view rebuilt from the registry', {
              assignments: snapshotSize,
              held: this.view.size,
            });
            healthy();
          }
          break;
        case 'upserted':
          this.view.applyRemote(toAssignment(change.value));
          break;
        default: {
          const unknown: never = change;
          throw new Error(`unknown assignment change ${JSON.stringify(unknown)}`);
        }
      }
    }
  };
}
