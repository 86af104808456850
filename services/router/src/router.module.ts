import { type DynamicModule, Logger, Module, type Provider } from '@nestjs/common';
import { chat, routerAdmin } from '@spillway/contracts';
import { createGrpcServer } from '@spillway/grpc';
import { createKafkaMessaging } from '@spillway/messaging';
import {
  CloseConversation,
  Converse,
  GetConversation,
  GetModelRoutes,
  ListConversations,
  ListModels,
  NO_USAGE_PUBLISHER,
  OpenAttempts,
  PlaceTurn,
  ReplaceModelRoutes,
  ShadowTurns,
  ShardLifecycleObservers,
  StartConversation,
  SuspectShards,
  TurnAdmission,
  TurnRunner,
  type ConversationPort,
  type LogPort,
  type ModelRoutesStore,
  type ShardLifecycleObserver,
} from './application/index.js';
import { ModelRoutesSource, type ReloadOutcome } from './adapters/config/model-routes.source.js';
import { SharedModelRoutesSource } from './adapters/config/shared-model-routes.source.js';
import { GrpcConversationStore } from './adapters/conversation/grpc-conversation.store.js';
import { InMemoryConversationStore } from './adapters/conversation/in-memory-conversation.store.js';
import { ChatGrpcController } from './adapters/grpc/chat.grpc.controller.js';
import { RouterAdminGrpcController } from './adapters/grpc/router-admin.grpc.controller.js';
import { InferenceClientPool } from './adapters/inference/inference-client-pool.js';
import { DeferredUsagePublisher } from './adapters/kafka/deferred-usage.publisher.js';
import { createMigrationSaga } from './adapters/migration/migration-saga.js';
import { MigrateOnDemand } from './application/migrate-conversations/index.js';
import { OtelRouterMetrics } from './adapters/metrics/otel-router-metrics.js';
import { SimulatorPromptEncoder } from './adapters/prefix/simulator-prompt.encoder.js';
import { AssignmentWatchConsumer } from './adapters/registry/assignment-watch.consumer.js';
import { GrpcAssignmentRegistry } from './adapters/registry/grpc-assignment-registry.js';
import { GrpcSharedRoutesRegistry } from './adapters/registry/grpc-shared-routes-registry.js';
import { ModelRoutesWatchConsumer } from './adapters/registry/model-routes-watch.consumer.js';
import { createRegistryClient, type RegistryClient } from './adapters/registry/registry-client.js';
import { ShardWatchConsumer } from './adapters/registry/shard-watch.consumer.js';
import { WatchLoop, type WatchConsumer } from './adapters/registry/watch-loop.js';
import { nestLog } from './adapters/system/nest-log.js';
import { systemClock, systemTimer, uuidIds } from './adapters/system/system-ports.js';
import { spillCostConfig, tierPolicies, type RouterConfig } from './config.js';
import {
  AssignmentView,
  buildPlacementPipeline,
  DEFAULT_LATENCY_MODEL,
  PlacedPrefixes,
  ReplyLengthTracker,
  seededRandom,
  ShardDirectory,
  ShardQueues,
  type LatencyModelConfig,
  type PlacementConfig,
} from './domain/index.js';
import { RouterLifecycle, RouterRuntime } from './router.runtime.js';

/** Composition root: which adapter implements which port, and nothing else. */
@Module({})
export class RouterModule {
  static forConfig(config: RouterConfig): DynamicModule {
    return { module: RouterModule, providers: providers(config) };
  }
}

function providers(config: RouterConfig): Provider[] {
  return [{ provide: RouterRuntime, useFactory: () => compose(config) }, RouterLifecycle];
}

interface ModelRoutes {
  readonly routes: ModelRoutesStore & ShardLifecycleObserver & { reload(): ReloadOutcome };
  /** Set when the table is the shared one: the registry's watch that keeps it current. */
  readonly watch?: WatchConsumer;
}

/**
 * A table given to this replica (MODEL_ROUTES, MODEL_ROUTES_FILE) is its own, as is the derived one
 * with MODEL_ROUTES_SOURCE=derived. Otherwise the replica follows the table every replica shares,
 * stored in the shard registry (docs/adr/0007).
 */
function modelRoutes(
  config: RouterConfig,
  shards: ShardDirectory,
  registryClient: RegistryClient,
  log: LogPort,
): ModelRoutes {
  const ownTable = config.MODEL_ROUTES !== undefined || config.MODEL_ROUTES_FILE !== undefined;
  if (!ownTable && config.MODEL_ROUTES_SOURCE !== 'derived') {
    const routes = new SharedModelRoutesSource(
      new GrpcSharedRoutesRegistry(registryClient),
      shards,
      log,
    );
    return { routes, watch: new ModelRoutesWatchConsumer(registryClient, routes).consume };
  }
  const routes = new ModelRoutesSource(
    config.MODEL_ROUTES !== undefined
      ? { kind: 'inline', json: config.MODEL_ROUTES }
      : config.MODEL_ROUTES_FILE !== undefined
        ? { kind: 'file', path: config.MODEL_ROUTES_FILE }
        : { kind: 'derived' },
    shards,
    log,
  );
  routes.load();
  return { routes };
}

/**
 * A debug line (and its fields, when given as a function) is only built when the debug level is
 * on: the turn path writes one per turn, and turning its fields into JSON for nobody cost more CPU
 * than placing the turn.
 */
function debugWhenEnabled(log: LogPort): LogPort {
  return {
    ...log,
    debug: (message, fields) => {
      if (Logger.isLevelEnabled('debug')) log.debug(message, fields);
    },
  };
}

function compose(config: RouterConfig): RouterRuntime {
  const log = debugWhenEnabled(nestLog('router'));
  const clock = systemClock;
  const timer = systemTimer;
  const ids = uuidIds;
  // Placement's and admission's latency predictions share one reply length, learned from the
  // turns this router finishes, starting at EXPECTED_OUTPUT_TOKENS.
  const replyLengths = new ReplyLengthTracker(config.EXPECTED_OUTPUT_TOKENS);
  const latency: LatencyModelConfig = {
    ...DEFAULT_LATENCY_MODEL,
    expectedOutputTokens: config.EXPECTED_OUTPUT_TOKENS,
    replyLength: replyLengths,
    defaultPrefillTokensPerSecond: config.PREFILL_TOKENS_PER_SECOND,
    prefillAttentionMsPerMillionPairs: config.PREFILL_ATTENTION_MS_PER_MILLION_PAIRS,
  };
  const placement: PlacementConfig = {
    filters: config.PLACEMENT_FILTERS,
    scorers: config.PLACEMENT_SCORERS,
    picker: config.PLACEMENT_PICKER,
    candidates: config.PLACEMENT_CANDIDATES,
    latency,
    tiers: tierPolicies(config),
  };
  const pipeline = buildPlacementPipeline(
    placement,
    seededRandom(config.RANDOM_SEED ?? Date.now() % 0x1_0000_0000),
  );
  const shards = new ShardDirectory({ sampleEvery: config.DIRECTORY_SAMPLE_EVERY });
  const assignments = new AssignmentView();
  const queues = new ShardQueues(config.QUEUE_CAPACITY_PER_SHARD);
  const registryClient = createRegistryClient(config.REGISTRY_ADDRESS, config.REGISTRY_DEADLINE_MS);
  const { routes, watch: routesWatch } = modelRoutes(config, shards, registryClient, log);

  const attempts = new OpenAttempts();
  const metrics = new OtelRouterMetrics();
  const admission = new TurnAdmission({ shards, queues, clock, latency, metrics });
  metrics.observe(admission);
  const suspects = new SuspectShards(clock, config.SUSPECT_SHARD_MS);
  const inference = new InferenceClientPool({ generateDeadlineMs: config.GENERATE_DEADLINE_MS });
  // Moves every conversation off a shard that fails or drains (DESIGN.md flow 3); needs the
  // lifecycle topic and the conversation store, so a router without them runs without it.
  const migration =
    config.KAFKA_BROKERS === undefined || config.CONVERSATION_STORE_ADDRESS === undefined
      ? undefined
      : createMigrationSaga({
          registryClient,
          conversationStore: {
            address: config.CONVERSATION_STORE_ADDRESS,
            deadlineMs: config.CONVERSATION_STORE_DEADLINE_MS,
            contextTokenBudget: config.CONTEXT_TOKEN_BUDGET,
          },
          messaging: createKafkaMessaging({
            brokers: config.KAFKA_BROKERS,
            clientId: 'router-migration',
            source: '/spillway/router',
          }),
          lifecycleTopic: config.SHARD_LIFECYCLE_TOPIC,
          groupId: config.MIGRATION_CONSUMER_GROUP,
          pipeline,
          shards,
          routes,
          queues,
          clock,
          log,
        });

  const placeTurn = new PlaceTurn({
    pipeline,
    shards,
    assignments,
    routes,
    registry: new GrpcAssignmentRegistry(registryClient),
    clock,
    queues,
    // A failover or re-route pin is recorded as a ConversationMigrated, as the saga's moves are.
    moves: migration?.moves,
    latency,
    // What this router sent each conversation's shard: the context its report is too short to show.
    prefixes: new PlacedPrefixes(),
    // Spills only when the turn gains more than the recomputed context costs the target (ADR 0009).
    spillCost: {
      config: spillCostConfig(config),
      shards: admission,
      metrics,
      log,
    },
  });

  const conversations: ConversationPort & { disconnect?: () => void } =
    config.CONVERSATION_STORE_ADDRESS === undefined
      ? new InMemoryConversationStore(clock, ids)
      : new GrpcConversationStore({
          address: config.CONVERSATION_STORE_ADDRESS,
          deadlineMs: config.CONVERSATION_STORE_DEADLINE_MS,
          contextTokenBudget: config.CONTEXT_TOKEN_BUDGET,
        });
  const usage =
    config.KAFKA_BROKERS === undefined
      ? undefined
      : new DeferredUsagePublisher({
          brokers: config.KAFKA_BROKERS,
          topic: config.REQUESTS_TOPIC,
          partitions: config.REQUESTS_TOPIC_PARTITIONS,
          log,
        });

  const encoder = new SimulatorPromptEncoder();
  const runner = new TurnRunner({
    placeTurn,
    admission,
    inference,
    encoder,
    shards,
    attempts,
    suspects,
    clock,
    timer,
    metrics,
    log,
    replyLengths,
    settings: {
      maxFailovers: config.MAX_FAILOVERS_PER_TURN,
      stallTimeoutMs: config.STREAM_STALL_TIMEOUT_MS,
      failoverWaitMs: config.FAILOVER_WAIT_FOR_SHARD_MS,
    },
  });
  const shadows = new ShadowTurns({
    pipeline,
    shards,
    inference,
    clock,
    timer,
    metrics,
    log,
    timeoutMs: config.SHADOW_TIMEOUT_MS,
  });
  const controller = new ChatGrpcController({
    startConversation: new StartConversation(conversations, routes, assignments),
    converse: new Converse({
      conversations,
      encoder,
      runner,
      shadows,
      usage: usage ?? NO_USAGE_PUBLISHER,
      clock,
      ids,
      metrics,
      log,
      zone: config.ZONE,
      // A turn for a conversation whose shard is gone moves it through the saga first.
      migrations:
        migration === undefined
          ? undefined
          : new MigrateOnDemand({ assignments, shards, saga: migration.saga, log }),
    }),
    getConversation: new GetConversation(conversations, assignments),
    listConversations: new ListConversations(conversations, assignments),
    closeConversation: new CloseConversation(conversations, assignments),
    listModels: new ListModels(routes, clock.nowMs()),
  });

  const queueObserver: ShardLifecycleObserver = {
    shardChanged: ({ shardId, current }) => {
      if (current !== 'ready') admission.shardLeft(shardId);
    },
  };
  const streamObserver: ShardLifecycleObserver = {
    shardChanged: ({ shardId, current }) => {
      if (current === 'failed' || current === 'removed' || current === 'gone') {
        const cut = attempts.cutShard(shardId, 'shard-failed');
        if (cut > 0) log.warn('shard failed under open streams; moving them', { shardId, cut });
      }
      if (current === 'gone') inference.forgetShard(shardId);
    },
  };
  // The migration saga (issue 5) joins these observers.
  const observers = new ShardLifecycleObservers([queueObserver, streamObserver, routes]);
  const watchOptions = {
    initialBackoffMs: config.WATCH_BACKOFF_INITIAL_MS,
    maxBackoffMs: config.WATCH_BACKOFF_MAX_MS,
    log,
  };

  return new RouterRuntime({
    grpcServer: createGrpcServer({
      serviceName: 'router',
      host: config.GRPC_HOST,
      port: config.GRPC_PORT,
      services: [
        { definition: chat.ChatServiceDefinition, implementation: controller },
        {
          definition: routerAdmin.RouterAdminDefinition,
          implementation: new RouterAdminGrpcController({
            getModelRoutes: new GetModelRoutes(routes),
            replaceModelRoutes: new ReplaceModelRoutes(routes),
          }),
        },
      ],
      errorLog: {
        error: (message, fields) => log.error(message, { detail: JSON.stringify(fields) }),
      },
    }),
    shardWatch: new WatchLoop(
      new ShardWatchConsumer(registryClient, shards, admission, observers, log).consume,
      { ...watchOptions, name: 'shard' },
    ),
    assignmentWatch: new WatchLoop(
      new AssignmentWatchConsumer(registryClient, assignments, log).consume,
      { ...watchOptions, name: 'assignment' },
    ),
    modelRoutesWatch:
      routesWatch === undefined
        ? undefined
        : new WatchLoop(routesWatch, { ...watchOptions, name: 'model routes' }),
    admission,
    reloadModelRoutes: () => routes.reload(),
    // Runs once the shard watch is in sync: the saga places conversations with it.
    startBackground: () => {
      usage?.start();
      migration?.start().catch((error: unknown) => {
        log.error('migration consumer did not start', { error: String(error) });
      });
    },
    stopBackground: async () => {
      await migration?.stop();
      await usage?.stop();
      inference.close();
      registryClient.close();
      conversations.disconnect?.();
    },
    log,
    registryWaitMs: config.REGISTRY_WAIT_MS,
    sweepIntervalMs: config.ADMISSION_SWEEP_INTERVAL_MS,
    shutdownGraceMs: config.SHUTDOWN_GRACE_MS,
  });
}
