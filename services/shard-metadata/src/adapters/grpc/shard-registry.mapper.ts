import { type common, shard as proto } from '@spillway/contracts';
import { fromProtoRouteTable, toProtoRouteTable } from '@spillway/model-routes';
import type { Assignment, CompareAndSet } from '../../domain/assignment.js';
import { invalidField } from '../../domain/errors.js';
import type { ReplaceModelRoutes, SharedModelRoutes } from '../../domain/model-routes.js';
import type { Shard, ShardLoad, ShardSpec, ShardState } from '../../domain/shard.js';

const STATES: Record<ShardState, proto.ShardState> = {
  starting: proto.ShardState.SHARD_STATE_STARTING,
  ready: proto.ShardState.SHARD_STATE_READY,
  draining: proto.ShardState.SHARD_STATE_DRAINING,
  failed: proto.ShardState.SHARD_STATE_FAILED,
  removed: proto.ShardState.SHARD_STATE_REMOVED,
};

export function toProtoState(state: ShardState): proto.ShardState {
  return STATES[state];
}

export function toProtoShard(shard: Shard): proto.Shard {
  return {
    shardId: shard.shardId,
    pool: shard.pool,
    model: shard.model,
    modelVersion: shard.modelVersion,
    zone: shard.zone,
    endpoint: shard.endpoint,
    state: toProtoState(shard.state),
    maxInFlightStreams: shard.maxInFlightStreams,
    kvCapacityTokens: shard.kvCapacityTokens,
    hardwareProfile: shard.hardwareProfile,
    costPerHour: shard.costPerHour,
    load: shard.load
      ? { ...shard.load, recentPrefixBlocks: [...shard.load.recentPrefixBlocks] }
      : undefined,
    lastHeartbeatAtMs: shard.lastHeartbeatAtMs,
    registeredAtMs: shard.registeredAtMs,
    revision: shard.revision,
  };
}

/** The spec part of a RegisterShardRequest; state, load, times and revision are the registry's. */
export function toShardSpec(request: proto.RegisterShardRequest): ShardSpec {
  const shard = request.shard;
  if (!shard) throw invalidField('shard', 'must be set');
  return {
    shardId: shard.shardId,
    pool: shard.pool,
    model: shard.model,
    modelVersion: shard.modelVersion,
    zone: shard.zone,
    endpoint: shard.endpoint,
    maxInFlightStreams: shard.maxInFlightStreams,
    kvCapacityTokens: shard.kvCapacityTokens,
    hardwareProfile: shard.hardwareProfile,
    costPerHour: shard.costPerHour,
  };
}

export function toShardLoad(load: common.ShardLoad | undefined): ShardLoad | undefined {
  return load ? { ...load } : undefined;
}

export function toProtoAssignment(assignment: Assignment): proto.Assignment {
  return { ...assignment };
}

export function toCompareAndSet(request: proto.CompareAndSetAssignmentRequest): CompareAndSet {
  return {
    conversationId: request.conversationId,
    tenantId: request.tenantId,
    shardId: request.shardId,
    expectedVersion: request.expectedVersion,
    reason: request.reason,
  };
}

export function toProtoSharedModelRoutes(routes: SharedModelRoutes): proto.SharedModelRoutes {
  return {
    table: toProtoRouteTable(routes.table),
    generation: routes.generation,
    updatedAtMs: routes.updatedAtMs,
    reason: routes.reason,
  };
}

export function toReplaceModelRoutes(request: proto.ReplaceModelRoutesRequest): ReplaceModelRoutes {
  if (!request.table) throw invalidField('table', 'must be set; send the whole table to store');
  return {
    table: fromProtoRouteTable(request.table),
    expectedGeneration: request.expectedGeneration,
    reason: request.reason,
  };
}
