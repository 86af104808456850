import { common, conversation, inference, shard } from '@spillway/contracts';
import {
  conversationStateConfigSchema,
  startConversationState,
  type RunningConversationState,
} from '@spillway/conversation-state';
import {
  createGrpcClient,
  createGrpcServer,
  ServerError,
  Status,
  type GrpcClient,
  type GrpcServer,
  type ServiceImplementation,
} from '@spillway/grpc';
import {
  shardMetadataConfigSchema,
  startShardMetadata,
  type RunningShardMetadata,
} from '@spillway/shard-metadata';
import {
  createTestDatabase,
  createTestTopics,
  testInfrastructure,
  type TestDatabase,
  type TestTopics,
} from '@spillway/testing';

export const MODEL = 'model-a';
export const POOL = 'pool-a';
export const TENANT = 'tenant-migration';

type RegistryClient = GrpcClient<typeof shard.ShardRegistryDefinition>;
type StoreClient = GrpcClient<typeof conversation.ConversationStoreDefinition>;

/**
 * The world of the migration tests, all real and on 127.0.0.1: shard-metadata and
 * conversation-state in this process on their own databases, private Kafka topics, and shards
 * registered and heartbeating. A shard's Inference service is a small gRPC server here that only
 * records Prewarm calls (its Generate is not what these tests are about).
 */
export interface MigrationWorld {
  readonly registryAddress: string;
  readonly storeAddress: string;
  readonly topics: TestTopics<'lifecycle' | 'conversations'>;
  readonly registry: RegistryClient;
  readonly store: StoreClient;
  /** conversation id → shards prewarmed for it. */
  readonly prewarmed: Map<string, string[]>;
  registerShards(ids: readonly string[]): Promise<void>;
  /** Stops a shard's heartbeats: the registry declares it failed. */
  stopHeartbeats(shardId: string): void;
  shardState(shardId: string): Promise<shard.ShardState | undefined>;
  /** Starts `count` conversations with a turn each and pins them to `shardId`. */
  /** Stored conversations `<prefix>-00000`… pinned to `shardId` (prefix `conv` by default). */
  seedConversations(shardId: string, count: number, prefix?: string): Promise<string[]>;
  /** Assignments the registry holds on a shard. */
  listOnShard(shardId: string): Promise<shard.Assignment[]>;
  assignment(conversationId: string): Promise<shard.Assignment | undefined>;
  /** ConversationMigrated events in a conversation's stream. */
  migratedEvents(conversationId: string): Promise<conversation.StoredEvent[]>;
  close(): Promise<void>;
}

export async function startMigrationWorld(
  options: { prewarmDelayMs?: number } = {},
): Promise<MigrationWorld> {
  const closers: (() => Promise<void> | void)[] = [];
  const close = async (): Promise<void> => {
    for (const closer of closers.reverse()) await closer();
  };
  try {
    const registryDb: TestDatabase = await createTestDatabase();
    closers.push(() => registryDb.cleanup());
    const storeDb: TestDatabase = await createTestDatabase();
    closers.push(() => storeDb.cleanup());
    const topics = await createTestTopics({ lifecycle: 3, conversations: 3 });
    closers.push(() => topics.cleanup());
    const brokers = testInfrastructure.kafkaBrokers.join(',');

    const registryService: RunningShardMetadata = await startShardMetadata(
      shardMetadataConfigSchema.parse({
        GRPC_PORT: '0',
        DATABASE_URL: registryDb.url,
        DATABASE_CREATE_IF_MISSING: 'false',
        KAFKA_BROKERS: brokers,
        SHARD_LIFECYCLE_TOPIC: topics.names.lifecycle,
        // Loose enough that a loaded machine never fails a shard whose heartbeats still run: only
        // the shard a test silences fails.
        HEARTBEAT_INTERVAL_MS: '200',
        FAILURE_AFTER_MS: '3000',
        SHUTDOWN_GRACE_MS: '1000',
      }),
      ['error'],
    );
    closers.push(() => registryService.close());
    const storeService: RunningConversationState = await startConversationState(
      conversationStateConfigSchema.parse({
        GRPC_PORT: '0',
        DATABASE_URL: storeDb.url,
        KAFKA_BROKERS: brokers,
        CONVERSATION_EVENTS_TOPIC: topics.names.conversations,
      }),
      { logger: false },
    );
    closers.push(() => storeService.close());

    const prewarmed = new Map<string, string[]>();
    const inferenceServers = new Map<string, GrpcServer>();
    const registryAddress = `127.0.0.1:${registryService.port}`;
    const storeAddress = `127.0.0.1:${storeService.port}`;
    // Generous deadlines: the tests seed hundreds of conversations at once on a loaded machine.
    const registry = createGrpcClient(shard.ShardRegistryDefinition, registryAddress, {
      defaultDeadlineMs: 30_000,
    });
    closers.push(() => registry.close());
    const store = createGrpcClient(conversation.ConversationStoreDefinition, storeAddress, {
      defaultDeadlineMs: 30_000,
    });
    closers.push(() => store.close());

    const heartbeats = new Map<string, NodeJS.Timeout>();
    closers.push(() => {
      for (const timer of heartbeats.values()) clearInterval(timer);
    });
    closers.push(async () => {
      for (const server of inferenceServers.values()) await server.shutdown(100);
    });

    const world: MigrationWorld = {
      registryAddress,
      storeAddress,
      topics,
      registry,
      store,
      prewarmed,
      async registerShards(ids) {
        for (const shardId of ids) {
          const server = fakeInference(shardId, prewarmed, options.prewarmDelayMs ?? 0);
          const port = await server.start();
          inferenceServers.set(shardId, server);
          await registry.registerShard({
            shard: shard.Shard.fromPartial({
              shardId,
              pool: POOL,
              model: MODEL,
              modelVersion: '1',
              zone: 'zone-1',
              endpoint: `127.0.0.1:${port}`,
              maxInFlightStreams: 64,
              kvCapacityTokens: 400_000,
              hardwareProfile: 'sim-a100',
              costPerHour: 1,
            }),
          });
          const beat = (): void => {
            registry.heartbeat({ shardId, ready: true, draining: false }).catch(() => undefined);
          };
          beat();
          heartbeats.set(shardId, setInterval(beat, 100));
        }
      },
      stopHeartbeats(shardId) {
        clearInterval(heartbeats.get(shardId));
        heartbeats.delete(shardId);
      },
      async shardState(shardId) {
        const listed = await registry.listShards({ pool: '', includeRemoved: true });
        return listed.shards.find((candidate) => candidate.shardId === shardId)?.state;
      },
      async seedConversations(shardId, count, prefix = 'conv') {
        const ids = Array.from(
          { length: count },
          (_, i) => `${prefix}-${String(i).padStart(5, '0')}`,
        );
        await inBatches(ids, 32, async (conversationId) => {
          await store.startConversation(
            conversation.StartConversationRequest.fromPartial({
              tenantId: TENANT,
              conversationId,
              model: MODEL,
              systemPrompt: 'You are terse.',
            }),
          );
          await store.appendUserMessage(
            conversation.AppendUserMessageRequest.fromPartial({
              tenantId: TENANT,
              conversationId,
              messages: [{ role: common.Role.ROLE_USER, content: `question of ${conversationId}` }],
              idempotencyKey: `${conversationId}-1`,
            }),
          );
          const pinned = await registry.compareAndSetAssignment({
            conversationId,
            tenantId: TENANT,
            shardId,
            expectedVersion: 0,
            reason: 'new',
          });
          if (!pinned.applied) throw new Error(`could not pin ${conversationId}`);
        });
        return ids;
      },
      async listOnShard(shardId) {
        const out: shard.Assignment[] = [];
        let pageToken = '';
        for (let page = 0; page < 100; page++) {
          const listed = await registry.listAssignments({ shardId, pageSize: 5_000, pageToken });
          out.push(...listed.assignments);
          if (listed.nextPageToken === '') break;
          pageToken = listed.nextPageToken;
        }
        return out;
      },
      async assignment(conversationId) {
        return (await registry.getAssignment({ conversationId })).assignment;
      },
      async migratedEvents(conversationId) {
        const read = await store.readStream({
          tenantId: TENANT,
          conversationId,
          fromVersion: 1,
          maxCount: 1_000,
        });
        return read.events.filter((event) => event.type === 'ConversationMigrated');
      },
      close,
    };
    return world;
  } catch (error) {
    await close();
    throw error;
  }
}

function fakeInference(
  shardId: string,
  prewarmed: Map<string, string[]>,
  delayMs: number,
): GrpcServer {
  const implementation: ServiceImplementation<typeof inference.InferenceDefinition> = {
    // eslint-disable-next-line require-yield
    async *generate() {
      throw new ServerError(Status.UNIMPLEMENTED, 'this test shard only prewarms');
    },
    async prewarm(request) {
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      prewarmed.set(request.conversationId, [
        ...(prewarmed.get(request.conversationId) ?? []),
        shardId,
      ]);
      return { promptTokens: request.messages.length, cachedPromptTokens: 0 };
    },
    async drain() {
      throw new ServerError(Status.UNIMPLEMENTED, 'not in this test');
    },
    async getLoad() {
      throw new ServerError(Status.UNIMPLEMENTED, 'not in this test');
    },
  };
  return createGrpcServer({
    serviceName: `fake-inference-${shardId}`,
    host: '127.0.0.1',
    port: 0,
    services: [{ definition: inference.InferenceDefinition, implementation }],
  });
}

async function inBatches<T>(items: readonly T[], size: number, work: (item: T) => Promise<void>) {
  for (let i = 0; i < items.length; i += size) {
    await Promise.all(items.slice(i, i + size).map(work));
  }
}
