import { type shard as proto } from '@spillway/contracts';
import { type CallContext, ServerError, type ServiceImplementation, Status } from '@spillway/grpc';
import type { CompareAndSetAssignmentUseCase } from '../../application/compare-and-set-assignment/compare-and-set-assignment.use-case.js';
import type { DrainShardUseCase } from '../../application/drain-shard/drain-shard.use-case.js';
import type { GetAssignmentQuery } from '../../application/get-assignment/get-assignment.query.js';
import type { GetModelRoutesQuery } from '../../application/get-model-routes/get-model-routes.query.js';
import type { ListAssignmentsQuery } from '../../application/list-assignments/list-assignments.query.js';
import type { ListShardsQuery } from '../../application/list-shards/list-shards.query.js';
import { FeedClosed, WatcherFellBehind } from '../../application/ports/change-feed.port.js';
import type { RecordHeartbeatUseCase } from '../../application/record-heartbeat/record-heartbeat.use-case.js';
import type { RegisterShardUseCase } from '../../application/register-shard/register-shard.use-case.js';
import type { RemoveShardUseCase } from '../../application/remove-shard/remove-shard.use-case.js';
import type { ReplaceModelRoutesUseCase } from '../../application/replace-model-routes/replace-model-routes.use-case.js';
import type { WatchAssignmentsQuery } from '../../application/watch-assignments/watch-assignments.query.js';
import type { WatchModelRoutesQuery } from '../../application/watch-model-routes/watch-model-routes.query.js';
import type { WatchShardsQuery } from '../../application/watch-shards/watch-shards.query.js';
import {
  toCompareAndSet,
  toProtoAssignment,
  toProtoShard,
  toProtoSharedModelRoutes,
  toProtoState,
  toReplaceModelRoutes,
  toShardLoad,
  toShardSpec,
} from './shard-registry.mapper.js';

export interface ShardRegistryUseCases {
  readonly registerShard: RegisterShardUseCase;
  readonly recordHeartbeat: RecordHeartbeatUseCase;
  readonly drainShard: DrainShardUseCase;
  readonly removeShard: RemoveShardUseCase;
  readonly listShards: ListShardsQuery;
  readonly watchShards: WatchShardsQuery;
  readonly getAssignment: GetAssignmentQuery;
  readonly compareAndSetAssignment: CompareAndSetAssignmentUseCase;
  readonly listAssignments: ListAssignmentsQuery;
  readonly watchAssignments: WatchAssignmentsQuery;
  readonly getModelRoutes: GetModelRoutesQuery;
  readonly replaceModelRoutes: ReplaceModelRoutesUseCase;
  readonly watchModelRoutes: WatchModelRoutesQuery;
}

type ShardRegistryService = ServiceImplementation<typeof proto.ShardRegistryDefinition>;

/** spillway.shard.v1.ShardRegistry: translates messages and delegates to the use cases. */
export class ShardRegistryGrpcController implements ShardRegistryService {
  constructor(private readonly useCases: ShardRegistryUseCases) {}

  async registerShard(request: proto.RegisterShardRequest): Promise<proto.RegisterShardResponse> {
    const { shard, heartbeatIntervalMs } = await this.useCases.registerShard.execute(
      toShardSpec(request),
    );
    return { shard: toProtoShard(shard), heartbeatIntervalMs };
  }

  async heartbeat(request: proto.HeartbeatRequest): Promise<proto.HeartbeatResponse> {
    const state = await this.useCases.recordHeartbeat.execute({
      shardId: request.shardId,
      load: toShardLoad(request.load),
      ready: request.ready,
      draining: request.draining,
    });
    return { state: toProtoState(state) };
  }

  async listShards(request: proto.ListShardsRequest): Promise<proto.ListShardsResponse> {
    const shards = this.useCases.listShards.execute({
      pool: request.pool,
      includeRemoved: request.includeRemoved,
    });
    return { shards: shards.map(toProtoShard) };
  }

  async *watchShards(
    request: proto.WatchShardsRequest,
    context: CallContext,
  ): AsyncGenerator<proto.WatchShardsResponse, void, undefined> {
    const messages = this.useCases.watchShards.execute(
      { pool: request.pool, lifecycleOnly: request.lifecycleOnly },
      context.signal,
    );
    yield* relay(messages, (message): proto.WatchShardsResponse => {
      switch (message.kind) {
        case 'snapshot':
          return {
            change: {
              $case: 'snapshot',
              value: { shards: message.shards.map(toProtoShard), revision: message.revision },
            },
          };
        case 'upserted':
          return { change: { $case: 'upserted', value: toProtoShard(message.shard) } };
        case 'removed':
          return { change: { $case: 'removedShardId', value: message.shardId } };
        default: {
          const unhandled: never = message;
          return unhandled;
        }
      }
    });
  }

  async drainShard(request: proto.DrainShardRequest): Promise<proto.DrainShardResponse> {
    const shard = await this.useCases.drainShard.execute(request.shardId, request.reason);
    return { shard: toProtoShard(shard) };
  }

  async removeShard(request: proto.RemoveShardRequest): Promise<proto.RemoveShardResponse> {
    await this.useCases.removeShard.execute(request.shardId, request.reason);
    return {};
  }

  async getAssignment(request: proto.GetAssignmentRequest): Promise<proto.GetAssignmentResponse> {
    const assignment = this.useCases.getAssignment.execute(request.conversationId);
    return { assignment: assignment ? toProtoAssignment(assignment) : undefined };
  }

  async compareAndSetAssignment(
    request: proto.CompareAndSetAssignmentRequest,
  ): Promise<proto.CompareAndSetAssignmentResponse> {
    const { applied, current } = await this.useCases.compareAndSetAssignment.execute(
      toCompareAndSet(request),
    );
    return { applied, current: current ? toProtoAssignment(current) : undefined };
  }

  async listAssignments(
    request: proto.ListAssignmentsRequest,
  ): Promise<proto.ListAssignmentsResponse> {
    const page = await this.useCases.listAssignments.execute({
      shardId: request.shardId,
      pageSize: request.pageSize,
      pageToken: request.pageToken,
    });
    return {
      assignments: page.assignments.map(toProtoAssignment),
      nextPageToken: page.nextPageToken,
    };
  }

  async *watchAssignments(
    _request: proto.WatchAssignmentsRequest,
    context: CallContext,
  ): AsyncGenerator<proto.WatchAssignmentsResponse, void, undefined> {
    yield* relay(
      this.useCases.watchAssignments.execute(context.signal),
      (message): proto.WatchAssignmentsResponse => {
        switch (message.kind) {
          case 'snapshot':
            return {
              change: {
                $case: 'snapshot',
                value: {
                  assignments: message.assignments.map(toProtoAssignment),
                  complete: message.complete,
                },
              },
            };
          case 'upserted':
            return { change: { $case: 'upserted', value: toProtoAssignment(message.assignment) } };
          default: {
            const unhandled: never = message;
            return unhandled;
          }
        }
      },
    );
  }

  async getModelRoutes(): Promise<proto.GetModelRoutesResponse> {
    return { routes: toProtoSharedModelRoutes(this.useCases.getModelRoutes.execute()) };
  }

  async replaceModelRoutes(
    request: proto.ReplaceModelRoutesRequest,
  ): Promise<proto.ReplaceModelRoutesResponse> {
    const { applied, current } = await this.useCases.replaceModelRoutes.execute(
      toReplaceModelRoutes(request),
    );
    return { applied, current: toProtoSharedModelRoutes(current) };
  }

  async *watchModelRoutes(
    _request: proto.WatchModelRoutesRequest,
    context: CallContext,
  ): AsyncGenerator<proto.WatchModelRoutesResponse, void, undefined> {
    yield* relay(
      this.useCases.watchModelRoutes.execute(context.signal),
      (routes): proto.WatchModelRoutesResponse => ({ routes: toProtoSharedModelRoutes(routes) }),
    );
  }
}

/**
 * Maps a watch's messages. A watcher cut off (it fell behind, or the server is shutting down) gets
 * UNAVAILABLE, the status gRPC clients already treat as "try again".
 */
async function* relay<M, R>(
  messages: AsyncIterable<M>,
  map: (message: M) => R,
): AsyncGenerator<R, void, undefined> {
  try {
    for await (const message of messages) yield map(message);
  } catch (error) {
    if (error instanceof WatcherFellBehind || error instanceof FeedClosed)
      throw new ServerError(Status.UNAVAILABLE, error.message);
    throw error;
  }
}
