import { randomBytes } from 'node:crypto';
import { type DynamicModule, Logger, Module, type Provider } from '@nestjs/common';
import { shard } from '@spillway/contracts';
import { createGrpcServer, type GrpcServer } from '@spillway/grpc';
import {
  createKafkaMessaging,
  defineTopic,
  type MessagingLogger,
  topics,
} from '@spillway/messaging';
import type { DataSource } from 'typeorm';
import { ShardRegistryGrpcController } from './adapters/grpc/shard-registry.grpc.controller.js';
import { InMemoryChangeFeed } from './application/change-feed/in-memory-change-feed.js';
import { systemClock } from './adapters/memory/system-clock.js';
import { LifecycleEventRelay } from './adapters/messaging/lifecycle-event.relay.js';
import { openDataSource } from './adapters/persistence/data-source.js';
import {
  claimTerm,
  type LeaderTerm,
  POOL_APPLICATION_NAME_PREFIX,
} from './adapters/persistence/leader-term.js';
import { TypeOrmAssignmentRepository } from './adapters/persistence/typeorm-assignment.repository.js';
import { TypeOrmModelRoutesRepository } from './adapters/persistence/typeorm-model-routes.repository.js';
import { TypeOrmShardRepository } from './adapters/persistence/typeorm-shard.repository.js';
import { GrpcShardProbe } from './adapters/probe/grpc-shard-probe.js';
import { FailureDetectionTimer } from './adapters/scheduling/failure-detection.timer.js';
import { AssignmentMap } from './application/assignments/assignment-map.js';
import { CompareAndSetAssignmentUseCase } from './application/compare-and-set-assignment/compare-and-set-assignment.use-case.js';
import { DetectFailuresUseCase } from './application/detect-failures/detect-failures.use-case.js';
import { DrainShardUseCase } from './application/drain-shard/drain-shard.use-case.js';
import { GetAssignmentQuery } from './application/get-assignment/get-assignment.query.js';
import { GetModelRoutesQuery } from './application/get-model-routes/get-model-routes.query.js';
import { ListAssignmentsQuery } from './application/list-assignments/list-assignments.query.js';
import { ListShardsQuery } from './application/list-shards/list-shards.query.js';
import { SharedRoutes } from './application/model-routes/shared-routes.js';
import { RecordHeartbeatUseCase } from './application/record-heartbeat/record-heartbeat.use-case.js';
import type { ShardChange } from './application/registry/shard-change.js';
import { ShardRegistry } from './application/registry/shard-registry.js';
import { RegisterShardUseCase } from './application/register-shard/register-shard.use-case.js';
import { RemoveShardUseCase } from './application/remove-shard/remove-shard.use-case.js';
import { ReplaceModelRoutesUseCase } from './application/replace-model-routes/replace-model-routes.use-case.js';
import { WatchAssignmentsQuery } from './application/watch-assignments/watch-assignments.query.js';
import { WatchModelRoutesQuery } from './application/watch-model-routes/watch-model-routes.query.js';
import { WatchShardsQuery } from './application/watch-shards/watch-shards.query.js';
import { SHARD_METADATA_CONFIG, type ShardMetadataConfig } from './config.js';
import type { Assignment } from './domain/assignment.js';
import type { SharedModelRoutes } from './domain/model-routes.js';
import { ShardMetadataLifecycle, ShardMetadataRuntime } from './shard-metadata.runtime.js';

const DATA_SOURCE = Symbol('DataSource');
const LEADER_TERM = Symbol('LeaderTerm');
const GRPC_SERVER = Symbol('GrpcServer');
const RELAY = Symbol('LifecycleEventRelay');
const FAILURE_DETECTION = Symbol('FailureDetectionTimer');
const SOURCE = '/spillway/shard-metadata';

/** Composition root: which adapter implements which port, and nothing else. */
@Module({})
export class ShardMetadataModule {
  static forConfig(config: ShardMetadataConfig): DynamicModule {
    return { module: ShardMetadataModule, providers: providers(config) };
  }
}

function providers(config: ShardMetadataConfig): Provider[] {
  const logger = new Logger('shard-metadata');
  const messagingLogger = nestMessagingLogger(logger);
  const lifecycleTopic = defineTopic(config.SHARD_LIFECYCLE_TOPIC, topics.shardLifecycle.codec);
  const shardFeed = new InMemoryChangeFeed<ShardChange>();
  const assignmentFeed = new InMemoryChangeFeed<Assignment>();
  const routesFeed = new InMemoryChangeFeed<SharedModelRoutes>();
  // This term's pool, told apart from an earlier leader's, which the term claim ends.
  const poolName = `${POOL_APPLICATION_NAME_PREFIX}${randomBytes(4).toString('hex')}`;

  return [
    { provide: SHARD_METADATA_CONFIG, useValue: config },
    {
      provide: DATA_SOURCE,
      // The database exists by now: the replica created it before taking the leader lock in it.
      useFactory: () =>
        openDataSource({
          url: config.DATABASE_URL,
          poolSize: config.DATABASE_POOL_SIZE,
          connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
          applicationName: poolName,
        }),
    },
    {
      // Before anything is loaded: the claim settles the previous leader's writes in flight.
      provide: LEADER_TERM,
      inject: [DATA_SOURCE],
      useFactory: (dataSource: DataSource): Promise<LeaderTerm> =>
        claimTerm(dataSource, poolName, config.DATABASE_CONNECT_TIMEOUT_MS),
    },
    {
      provide: ShardRegistry,
      inject: [DATA_SOURCE, LEADER_TERM],
      useFactory: (dataSource: DataSource, term: LeaderTerm) =>
        new ShardRegistry(
          new TypeOrmShardRepository(dataSource, { lifecycleTopic, source: SOURCE }, term),
          systemClock,
          shardFeed,
        ),
    },
    {
      provide: AssignmentMap,
      inject: [DATA_SOURCE, LEADER_TERM],
      useFactory: (dataSource: DataSource, term: LeaderTerm) =>
        new AssignmentMap(
          new TypeOrmAssignmentRepository(dataSource, term),
          systemClock,
          assignmentFeed,
        ),
    },
    {
      provide: SharedRoutes,
      inject: [DATA_SOURCE, LEADER_TERM],
      useFactory: (dataSource: DataSource, term: LeaderTerm) =>
        new SharedRoutes(
          new TypeOrmModelRoutesRepository(dataSource, term),
          systemClock,
          routesFeed,
        ),
    },
    {
      provide: GRPC_SERVER,
      inject: [ShardRegistry, AssignmentMap, SharedRoutes],
      useFactory: (
        registry: ShardRegistry,
        assignments: AssignmentMap,
        routes: SharedRoutes,
      ): GrpcServer => {
        const controller = new ShardRegistryGrpcController({
          registerShard: new RegisterShardUseCase(registry, config.HEARTBEAT_INTERVAL_MS),
          recordHeartbeat: new RecordHeartbeatUseCase(registry),
          drainShard: new DrainShardUseCase(registry),
          removeShard: new RemoveShardUseCase(registry),
          listShards: new ListShardsQuery(registry),
          watchShards: new WatchShardsQuery(registry, config.WATCH_MAX_BUFFERED),
          getAssignment: new GetAssignmentQuery(assignments),
          compareAndSetAssignment: new CompareAndSetAssignmentUseCase(assignments, registry),
          listAssignments: new ListAssignmentsQuery(assignments),
          watchAssignments: new WatchAssignmentsQuery(assignments, {
            snapshotChunkSize: config.WATCH_SNAPSHOT_CHUNK,
            maxBuffered: config.WATCH_MAX_BUFFERED,
          }),
          getModelRoutes: new GetModelRoutesQuery(routes),
          replaceModelRoutes: new ReplaceModelRoutesUseCase(routes),
          watchModelRoutes: new WatchModelRoutesQuery(routes, config.WATCH_MAX_BUFFERED),
        });
        return createGrpcServer({
          serviceName: 'shard-metadata',
          host: config.GRPC_HOST,
          port: config.GRPC_PORT,
          services: [{ definition: shard.ShardRegistryDefinition, implementation: controller }],
          errorLog: { error: (message, fields) => logger.error(message, fields) },
        });
      },
    },
    {
      provide: FAILURE_DETECTION,
      inject: [ShardRegistry],
      useFactory: (registry: ShardRegistry) =>
        new FailureDetectionTimer(
          new DetectFailuresUseCase(
            registry,
            systemClock,
            {
              failureAfterMs: config.FAILURE_AFTER_MS,
              restartGraceMs: config.RESTART_GRACE_MS,
            },
            config.FAILURE_PROBE_TIMEOUT_MS > 0
              ? new GrpcShardProbe(config.FAILURE_PROBE_TIMEOUT_MS)
              : undefined,
          ),
          config.FAILURE_CHECK_INTERVAL_MS,
          {
            shardFailed: (shardId, probe) =>
              logger.warn(
                `shard ${shardId} failed: no heartbeat within the limit` +
                  (probe === undefined ? '' : ` and ${probe}`),
              ),
            probeAnswered: (shardId) =>
              logger.warn(
                `shard ${shardId} missed its heartbeats but answered a direct probe; kept`,
              ),
            passFailed: (shardId, error) =>
              logger.error(
                `could not mark shard ${shardId} failed; retrying: ${error instanceof Error ? error.message : String(error)}`,
              ),
            passSkipped: (lagMs) =>
              logger.warn(`event loop stalled ${lagMs} ms; failure detection waits one pass`),
          },
        ),
    },
    {
      provide: RELAY,
      useFactory: () =>
        new LifecycleEventRelay({
          messaging: createKafkaMessaging({
            brokers: config.KAFKA_BROKERS,
            clientId: 'shard-metadata',
            source: SOURCE,
            logger: messagingLogger,
          }),
          databaseUrl: config.DATABASE_URL,
          topic: {
            name: config.SHARD_LIFECYCLE_TOPIC,
            partitions: config.SHARD_LIFECYCLE_PARTITIONS,
          },
          logger: messagingLogger,
        }),
    },
    {
      provide: ShardMetadataRuntime,
      inject: [
        DATA_SOURCE,
        LEADER_TERM,
        ShardRegistry,
        AssignmentMap,
        SharedRoutes,
        RELAY,
        FAILURE_DETECTION,
        GRPC_SERVER,
      ],
      useFactory: (
        dataSource: DataSource,
        term: LeaderTerm,
        registry: ShardRegistry,
        assignments: AssignmentMap,
        routes: SharedRoutes,
        relay: LifecycleEventRelay,
        failureDetection: FailureDetectionTimer,
        grpcServer: GrpcServer,
      ) =>
        new ShardMetadataRuntime({
          dataSource,
          term,
          registry,
          assignments,
          routes,
          relay,
          failureDetection,
          grpcServer,
          feeds: [shardFeed, assignmentFeed, routesFeed],
          shutdownGraceMs: config.SHUTDOWN_GRACE_MS,
        }),
    },
    ShardMetadataLifecycle,
  ];
}

function nestMessagingLogger(logger: Logger): MessagingLogger {
  const line = (message: string, fields?: Readonly<Record<string, unknown>>): string =>
    fields && Object.keys(fields).length > 0 ? `${message} ${JSON.stringify(fields)}` : message;
  return {
    debug: (message, fields) => logger.debug(line(message, fields)),
    info: (message, fields) => logger.log(line(message, fields)),
    warn: (message, fields) => logger.warn(line(message, fields)),
    error: (message, fields) => logger.error(line(message, fields)),
  };
}
