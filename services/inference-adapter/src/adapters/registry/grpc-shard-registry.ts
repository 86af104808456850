import { shard } from '@spillway/contracts';
import { isDomainError } from '@spillway/errors';
import { createGrpcClient, type GrpcClient } from '@spillway/grpc';
import {
  ShardNotRegistered,
  type RegistryShardState,
  type ShardDescriptor,
  type ShardHeartbeat,
  type ShardRegistryPort,
} from '../../application/shard-registry.port.js';

/** The shard registry (shard-metadata service) over gRPC. */
export class GrpcShardRegistry implements ShardRegistryPort {
  private readonly client: GrpcClient<typeof shard.ShardRegistryDefinition>;

  constructor(address: string, deadlineMs: number) {
    this.client = createGrpcClient(shard.ShardRegistryDefinition, address, {
      defaultDeadlineMs: deadlineMs,
      peerUnavailableCode: 'DEPENDENCY.UNAVAILABLE',
    });
  }

  async register(descriptor: ShardDescriptor): Promise<{ readonly heartbeatIntervalMs: number }> {
    const response = await this.client.registerShard({
      shard: {
        shardId: descriptor.shardId,
        pool: descriptor.pool,
        model: descriptor.model,
        zone: descriptor.zone,
        endpoint: descriptor.endpoint,
        state: shard.ShardState.SHARD_STATE_STARTING,
        maxInFlightStreams: descriptor.maxInFlightStreams,
        kvCapacityTokens: descriptor.kvCapacityTokens,
        hardwareProfile: descriptor.hardwareProfile,
        costPerHour: descriptor.costPerHour,
        modelVersion: '',
        lastHeartbeatAtMs: 0,
        registeredAtMs: 0,
        revision: 0,
      },
    });
    return { heartbeatIntervalMs: response.heartbeatIntervalMs };
  }

  async heartbeat(beat: ShardHeartbeat): Promise<{ readonly state: RegistryShardState }> {
    try {
      const response = await this.client.heartbeat(beat);
      return { state: toState(response.state) };
    } catch (error) {
      if (
        isDomainError(error) &&
        (error.code === 'SHARD.NOT_FOUND' || error.details.grpcStatus === 'NOT_FOUND')
      ) {
        throw new ShardNotRegistered(beat.shardId);
      }
      throw error;
    }
  }

  close(): void {
    this.client.close();
  }
}

function toState(state: shard.ShardState): RegistryShardState {
  switch (state) {
    case shard.ShardState.SHARD_STATE_STARTING:
      return 'starting';
    case shard.ShardState.SHARD_STATE_READY:
      return 'ready';
    case shard.ShardState.SHARD_STATE_DRAINING:
      return 'draining';
    case shard.ShardState.SHARD_STATE_FAILED:
      return 'failed';
    case shard.ShardState.SHARD_STATE_REMOVED:
      return 'removed';
    case shard.ShardState.SHARD_STATE_UNSPECIFIED:
      return 'unknown';
    default: {
      const unknownState: never = state;
      return unknownState;
    }
  }
}
