import type { shard as proto } from '@spillway/contracts';
import type { CompareAndSetAssignment, CompareAndSetOutcome } from '../../application/index.js';
import type {
  AssignmentPage,
  MigrationRegistryPort,
  RegisteredAssignment,
} from '../../application/migrate-conversations/index.js';
import { toAssignment } from '../registry/assignment-watch.consumer.js';
import type { RegistryClient } from '../registry/registry-client.js';

/** MigrationRegistryPort over shard-metadata's ListAssignments, GetAssignment and CAS. */
export class GrpcMigrationRegistry implements MigrationRegistryPort {
  constructor(private readonly client: RegistryClient) {}

  async listOnShard(shardId: string, pageSize: number, pageToken: string): Promise<AssignmentPage> {
    const page = await this.client.listAssignments({ shardId, pageSize, pageToken });
    return {
      assignments: page.assignments.map(toRegistered),
      nextPageToken: page.nextPageToken,
    };
  }

  async get(conversationId: string): Promise<RegisteredAssignment | undefined> {
    const response = await this.client.getAssignment({ conversationId });
    return response.assignment === undefined ? undefined : toRegistered(response.assignment);
  }

  async compareAndSet(request: CompareAndSetAssignment): Promise<CompareAndSetOutcome> {
    const response = await this.client.compareAndSetAssignment({ ...request });
    return {
      applied: response.applied,
      current: response.current === undefined ? undefined : toAssignment(response.current),
    };
  }
}

function toRegistered(assignment: proto.Assignment): RegisteredAssignment {
  return {
    conversationId: assignment.conversationId,
    tenantId: assignment.tenantId,
    shardId: assignment.shardId,
    version: assignment.version,
  };
}
