import { conversation, type events } from '@spillway/contracts';
import { createGrpcClient, type GrpcClient } from '@spillway/grpc';
import {
  createKafkaMessaging,
  defineTopic,
  eventCodec,
  silentLogger,
  type DeliveredEvent,
} from '@spillway/messaging';
import {
  createTestDatabase,
  createTestTopics,
  testInfrastructure,
  type TestDatabase,
  type TestTopics,
} from '@spillway/testing';
import { conversationStateConfigSchema, type ConversationStateConfig } from '../../src/config.js';
import {
  startConversationState,
  type RunningConversationState,
} from '../../src/conversation-state.app.js';

export type ConversationStoreClient = GrpcClient<typeof conversation.ConversationStoreDefinition>;

export interface Harness {
  readonly database: TestDatabase;
  readonly topics: TestTopics<'conversations'>;
  readonly config: ConversationStateConfig;
  readonly service: RunningConversationState;
  readonly client: ConversationStoreClient;
  /** Consumes the private conversation topic from the beginning, de-duplicating by ce_id. */
  consume(): Promise<ConversationTopicReader>;
  cleanup(): Promise<void>;
}

export interface ConversationTopicReader {
  readonly received: DeliveredEvent<events.ConversationEvent>[];
  readonly duplicates: () => number;
  stop(): Promise<void>;
}

/** The real service in this process on a private database and topic, plus a client for it. */
export async function startHarness(env: Record<string, string> = {}): Promise<Harness> {
  const database = await createTestDatabase();
  const topics = await createTestTopics({ conversations: 3 }, { logger: silentLogger });
  const config = conversationStateConfigSchema.parse({
    GRPC_PORT: '0',
    DATABASE_URL: database.url,
    KAFKA_BROKERS: testInfrastructure.kafkaBrokers.join(','),
    CONVERSATION_EVENTS_TOPIC: topics.names.conversations,
    CONVERSATION_EVENTS_PARTITIONS: '3',
    SNAPSHOT_EVERY: '5',
    OUTBOX_POLL_INTERVAL_MS: '20',
    ...env,
  });
  const service = await startConversationState(config, { logger: false });
  const client = createGrpcClient(
    conversation.ConversationStoreDefinition,
    `127.0.0.1:${service.port}`,
    { defaultDeadlineMs: 20_000 },
  );
  const readers: ConversationTopicReader[] = [];

  return {
    database,
    topics,
    config,
    service,
    client,
    async consume() {
      const subscriber = createKafkaMessaging({
        brokers: testInfrastructure.kafkaBrokers,
        clientId: 'conversation-state-test',
        source: '/spillway/test',
        logger: silentLogger,
      }).createSubscriber({ groupId: topics.groupId('reader'), fromBeginning: true });
      const received: DeliveredEvent<events.ConversationEvent>[] = [];
      subscriber.subscribe(
        defineTopic(topics.names.conversations, eventCodec('ConversationEvent')),
        async (delivery) => {
          received.push(delivery);
        },
      );
      await subscriber.start();
      const reader = {
        received,
        duplicates: () => subscriber.stats().duplicates,
        stop: () => subscriber.stop(),
      };
      readers.push(reader);
      return reader;
    },
    async cleanup() {
      client.close();
      for (const reader of readers) await reader.stop();
      await service.close();
      await topics.cleanup();
      await database.cleanup();
    },
  };
}

/**
 * A harness for one suite: started before its first test, cleaned up after its last. Read it with
 * the returned function inside tests and hooks.
 */
export function harnessForSuite(env: Record<string, string> = {}): () => Harness {
  let harness: Harness | undefined;
  beforeAll(async () => {
    harness = await startHarness(env);
  });
  afterAll(async () => {
    await harness?.cleanup();
  });
  return () => {
    if (harness === undefined) throw new Error('the suite harness is not started yet');
    return harness;
  };
}
