import { type common, shard as proto } from '@spillway/contracts';
import {
  BlockSet,
  IDLE_LOAD,
  type ShardLoad,
  type ShardState,
  type ShardView,
} from '../../domain/index.js';

export function toShardState(state: proto.ShardState): ShardState {
  switch (state) {
    case proto.ShardState.SHARD_STATE_READY:
      return 'ready';
    case proto.ShardState.SHARD_STATE_DRAINING:
      return 'draining';
    case proto.ShardState.SHARD_STATE_FAILED:
      return 'failed';
    case proto.ShardState.SHARD_STATE_REMOVED:
      return 'removed';
    case proto.ShardState.SHARD_STATE_STARTING:
    case proto.ShardState.SHARD_STATE_UNSPECIFIED:
      return 'starting';
    default: {
      const unknown: never = state;
      return unknown;
    }
  }
}

export function toShardLoad(load: common.ShardLoad): ShardLoad {
  return {
    running: load.runningRequests,
    waiting: load.waitingRequests,
    inFlight: load.inFlightStreams,
    kvCacheUsage: load.kvCacheUsage,
    // This router's own count; admission fills it in (see TurnAdmission.applyLoadReport).
    prefillBacklogMs: 0,
    ttftMsP50: load.ttftMsP50,
    queueTimeMsP50: load.queueTimeMsP50,
    itlMsP50: load.itlMsP50,
    observedAtMs: load.observedAtMs,
  };
}

/**
 * The registry's facts about a shard; load and recent blocks are carried over from the view held,
 * and replaced by the load report through admission (which knows this router's own streams).
 */
export function toShardView(shard: proto.Shard, previous: ShardView | undefined): ShardView {
  return {
    id: shard.shardId,
    pool: shard.pool,
    model: shard.model,
    zone: shard.zone,
    endpoint: shard.endpoint,
    state: toShardState(shard.state),
    capacity: {
      maxInFlight: Math.max(1, shard.maxInFlightStreams || (shard.load?.maxInFlightStreams ?? 0)),
      kvCapacityTokens: shard.kvCapacityTokens,
    },
    load: previous?.load ?? IDLE_LOAD,
    recentPrefixBlocks: previous?.recentPrefixBlocks ?? BlockSet.EMPTY,
  };
}
