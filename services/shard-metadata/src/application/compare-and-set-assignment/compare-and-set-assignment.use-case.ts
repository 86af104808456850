import {
  checkAssignableShard,
  validateCompareAndSet,
  type CompareAndSet,
} from '../../domain/assignment.js';
import type { AssignmentMap } from '../assignments/assignment-map.js';
import type { CompareAndSetResult } from '../ports/assignment.repository.port.js';
import type { ShardRegistry } from '../registry/shard-registry.js';

/**
 * Pins a conversation to a shard if nobody changed the pin since the caller read it. Losing the
 * race is an answer (applied=false with the current pin), not an error; pinning to a shard that
 * is unknown, draining, failed or removed is refused.
 */
export class CompareAndSetAssignmentUseCase {
  constructor(
    private readonly assignments: AssignmentMap,
    private readonly registry: ShardRegistry,
  ) {}

  async execute(request: CompareAndSet): Promise<CompareAndSetResult> {
    const problem =
      validateCompareAndSet(request) ??
      checkAssignableShard(request.shardId, this.registry.stateOf(request.shardId));
    if (problem) throw problem;
    return this.assignments.compareAndSet(request);
  }
}
