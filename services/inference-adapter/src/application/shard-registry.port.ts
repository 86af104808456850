import type { common } from '@spillway/contracts';

export const SHARD_REGISTRY_PORT = Symbol('ShardRegistryPort');

/** What this shard tells the registry about itself when it registers. */
export interface ShardDescriptor {
  readonly shardId: string;
  readonly pool: string;
  readonly model: string;
  readonly zone: string;
  /** host:port of this adapter's gRPC server. */
  readonly endpoint: string;
  readonly maxInFlightStreams: number;
  readonly kvCapacityTokens: number;
  readonly hardwareProfile: string;
  readonly costPerHour: number;
}

export interface ShardHeartbeat {
  readonly shardId: string;
  readonly load: common.ShardLoad;
  /** The engine answers its health check. */
  readonly ready: boolean;
  /** The shard stopped taking new turns. */
  readonly draining: boolean;
}

export interface ShardHeartbeat {
  readonly shardId: string;
  readonly load: common.ShardLoad;
  /** The engine answers its health check. */
  readonly ready: boolean;
  /** The shard stopped taking new turns. */
  readonly draining: boolean;
}

export type RegistryShardState =
  'starting' | 'ready' | 'draining' | 'failed' | 'removed' | 'unknown';

export interface ShardRegistryPort {
  /** Returns the heartbeat interval the registry asks for (0: no preference). */
  register(shard: ShardDescriptor): Promise<{ readonly heartbeatIntervalMs: number }>;
  /** Throws ShardNotRegistered when the registry does not know the shard (it restarted). */
  heartbeat(beat: ShardHeartbeat): Promise<{ readonly state: RegistryShardState }>;
}

export class ShardNotRegistered extends Error {
  constructor(shardId: string) {
    super(`the registry does not know shard ${shardId}`);
    this.name = 'ShardNotRegistered';
  }
}
