/** Where a shard is in its life. Only `ready` shards take new turns. */
export type ShardState = 'starting' | 'ready' | 'draining' | 'failed' | 'removed';

/** One shard's load at a point in time, as its inference adapter reports it. */
export interface ShardLoad {
  readonly runningRequests: number;
  readonly waitingRequests: number;
  /** Fraction of KV-cache blocks in use, 0..1. */
  readonly kvCacheUsage: number;
  readonly inFlightStreams: number;
  readonly maxInFlightStreams: number;
  readonly ttftMsP50: number;
  readonly itlMsP50: number;
  /** The engine-queue share of ttftMsP50 (0 when the engine does not report it). */
  readonly queueTimeMsP50: number;
  readonly prefixCacheHitRatio: number;
  readonly observedAtMs: number;
  /** Recently served prompt prefix block hashes, most recent first. */
  readonly recentPrefixBlocks: readonly number[];
}

/** What a shard says about itself when it registers. */
export interface ShardSpec {
  readonly shardId: string;
  readonly pool: string;
  readonly model: string;
  readonly modelVersion: string;
  readonly zone: string;
  /** host:port of the shard's inference adapter. */
  readonly endpoint: string;
  readonly maxInFlightStreams: number;
  readonly kvCapacityTokens: number;
  readonly hardwareProfile: string;
  readonly costPerHour: number;
}

/** A registered shard as the registry knows it. */
export interface Shard extends ShardSpec {
  readonly state: ShardState;
  readonly load: ShardLoad | undefined;
  readonly lastHeartbeatAtMs: number;
  readonly registeredAtMs: number;
  /** Registry-wide revision of the last change to this shard; assigned by the registry, not here. */
  readonly revision: number;
}

/** States in which a shard is expected to heartbeat, and so can be declared failed. */
export function isMonitored(state: ShardState): boolean {
  switch (state) {
    case 'starting':
    case 'ready':
    case 'draining':
      return true;
    case 'failed':
    case 'removed':
      return false;
    default: {
      const unhandled: never = state;
      return unhandled;
    }
  }
}

/** Whether a conversation may be pinned to a shard in this state. */
export function acceptsAssignments(state: ShardState): boolean {
  return state === 'starting' || state === 'ready';
}

export function sameSpec(a: ShardSpec, b: ShardSpec): boolean {
  return (
    a.shardId === b.shardId &&
    a.pool === b.pool &&
    a.model === b.model &&
    a.modelVersion === b.modelVersion &&
    a.zone === b.zone &&
    a.endpoint === b.endpoint &&
    a.maxInFlightStreams === b.maxInFlightStreams &&
    a.kvCapacityTokens === b.kvCapacityTokens &&
    a.hardwareProfile === b.hardwareProfile &&
    a.costPerHour === b.costPerHour
  );
}

export function specOf(shard: Shard): ShardSpec {
  const {
    shardId,
    pool,
    model,
    modelVersion,
    zone,
    endpoint,
    maxInFlightStreams,
    kvCapacityTokens,
    hardwareProfile,
    costPerHour,
  } = shard;
  return {
    shardId,
    pool,
    model,
    modelVersion,
    zone,
    endpoint,
    maxInFlightStreams,
    kvCapacityTokens,
    hardwareProfile,
    costPerHour,
  };
}
