import { defineTopic, topics, type Messaging } from '@spillway/messaging';
import type { Clock, LogPort, ModelRoutesPort } from '../../application/index.js';
import {
  MigrateConversations,
  type MigrateConversationsSettings,
  type PrewarmPort,
} from '../../application/migrate-conversations/index.js';
import type { ConversationMovesPort } from '../../application/place-turn/place-turn.js';
import type { PlacementPipeline, QueueDepth, ShardDirectory } from '../../domain/index.js';
import { ShardLifecycleKafkaConsumer } from '../kafka/shard-lifecycle.kafka.consumer.js';
import type { RegistryClient } from '../registry/registry-client.js';
import { GrpcMigrationConversations } from './grpc-migration-conversations.js';
import { GrpcMigrationRegistry } from './grpc-migration-registry.js';
import { GrpcPrewarm } from './grpc-prewarm.js';
import { RecordedMoves } from './recorded-moves.js';
import { OtelMigrationMetrics } from './otel-migration-metrics.js';
import { OtelMigrationTracing } from './otel-migration-tracing.js';

export interface MigrationSagaParts {
  readonly registryClient: RegistryClient;
  readonly conversationStore: {
    readonly address: string;
    readonly deadlineMs: number;
    readonly contextTokenBudget: number;
  };
  readonly messaging: Messaging;
  /** Default spillway.shard.lifecycle.v1. */
  readonly lifecycleTopic?: string | undefined;
  /** Default spillway-router-migration: one group for every router replica. */
  readonly groupId?: string | undefined;
  readonly pipeline: PlacementPipeline;
  readonly shards: ShardDirectory;
  readonly routes: ModelRoutesPort;
  readonly queues?: QueueDepth | undefined;
  readonly clock: Clock;
  readonly log: LogPort;
  /** Default: Inference.Prewarm on the target shard over gRPC. */
  readonly prewarm?: PrewarmPort | undefined;
  readonly prewarmDeadlineMs?: number | undefined;
  readonly settings?: Partial<MigrateConversationsSettings> | undefined;
}

export interface MigrationSaga {
  /** For the converse path: `saga.migrateOne(conversationId, 'shard-gone')`. */
  readonly saga: MigrateConversations;
  /** For placement: records the moves it pins itself (failover, re-route). */
  readonly moves: ConversationMovesPort;
  /** Joins the consumer group; call once the shard directory is in sync with the registry. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The migration saga with its real adapters, for a composition root (the router, test children). */
export function createMigrationSaga(parts: MigrationSagaParts): MigrationSaga {
  const conversations = new GrpcMigrationConversations(parts.conversationStore);
  const grpcPrewarm =
    parts.prewarm === undefined ? new GrpcPrewarm(parts.prewarmDeadlineMs ?? 2_000) : undefined;
  const saga = new MigrateConversations({
    registry: new GrpcMigrationRegistry(parts.registryClient),
    conversations,
    prewarm: parts.prewarm ?? (grpcPrewarm as GrpcPrewarm),
    pipeline: parts.pipeline,
    shards: parts.shards,
    routes: parts.routes,
    queues: parts.queues,
    clock: parts.clock,
    metrics: new OtelMigrationMetrics(),
    tracing: new OtelMigrationTracing(),
    log: parts.log,
    settings: parts.settings,
  });
  const consumer = new ShardLifecycleKafkaConsumer(
    parts.messaging,
    saga,
    {
      topic: defineTopic(
        parts.lifecycleTopic ?? topics.shardLifecycle.name,
        topics.shardLifecycle.codec,
      ),
      groupId: parts.groupId ?? 'spillway-router-migration',
      passes: 3,
      pauseBetweenPassesMs: 500,
    },
    parts.log,
    async (shardId) => {
      const { shards } = await parts.registryClient.listShards({ pool: '', includeRemoved: false });
      return shards.find((listed) => listed.shardId === shardId)?.registeredAtMs;
    },
  );
  return {
    saga,
    moves: new RecordedMoves(conversations, parts.shards, parts.log),
    start: () => consumer.start(),
    stop: async () => {
      await consumer.stop();
      conversations.close();
      grpcPrewarm?.close();
    },
  };
}
