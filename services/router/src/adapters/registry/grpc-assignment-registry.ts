import type {
  AssignmentRegistryPort,
  CompareAndSetAssignment,
  CompareAndSetOutcome,
} from '../../application/index.js';
import { toAssignment } from './assignment-watch.consumer.js';
import type { RegistryClient } from './registry-client.js';

/** AssignmentRegistryPort over shard-metadata's CompareAndSetAssignment. */
export class GrpcAssignmentRegistry implements AssignmentRegistryPort {
  constructor(private readonly client: RegistryClient) {}

  async compareAndSet(request: CompareAndSetAssignment): Promise<CompareAndSetOutcome> {
    const response = await this.client.compareAndSetAssignment({
      conversationId: request.conversationId,
      tenantId: request.tenantId,
      shardId: request.shardId,
      expectedVersion: request.expectedVersion,
      reason: request.reason,
    });
    return {
      applied: response.applied,
      current: response.current === undefined ? undefined : toAssignment(response.current),
    };
  }
}
