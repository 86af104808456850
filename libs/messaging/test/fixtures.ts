import { randomUUID } from 'node:crypto';
import type { events } from '@spillway/contracts';
import {
  createTestDatabase,
  createTestTopics,
  testInfrastructure,
  type TestDatabase,
} from '@spillway/testing';
import {
  createKafkaMessaging,
  defineTopic,
  eventCodec,
  migrateOutbox,
  type DeliveredEvent,
  type EventPublisher,
  type EventSubscriber,
  type Messaging,
  type MessagingLogger,
  type Topic,
} from '../src/index.js';

/** Kafka for a test process: quick group joins and quick stops. */
export function testMessaging(logger: MessagingLogger, source = '/spillway/test'): Messaging {
  return createKafkaMessaging({
    brokers: testInfrastructure.kafkaBrokers,
    clientId: 'messaging-test',
    source,
    logger,
    consumer: { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500, maxWaitTimeMs: 100 },
  });
}

export interface LogLine {
  readonly level: keyof MessagingLogger;
  readonly message: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** Keeps what the library logged so a test can assert on it (and the test output stays quiet). */
export function capturingLogger(): MessagingLogger & { readonly lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: keyof MessagingLogger) =>
    (message: string, fields: Readonly<Record<string, unknown>> = {}): void => {
      lines.push({ level, message, fields });
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export function shardLoadReported(
  overrides: Partial<events.ShardLoadReported> = {},
): events.ShardLoadReported {
  return {
    shardId: `shard-${randomUUID().slice(0, 8)}`,
    pool: 'a100-80g',
    load: {
      runningRequests: 12,
      waitingRequests: 3,
      kvCacheUsage: 0.61,
      inFlightStreams: 15,
      maxInFlightStreams: 64,
      ttftMsP50: 180,
      itlMsP50: 22,
      queueTimeMsP50: 0,
      prefixCacheHitRatio: 0.4,
      observedAtMs: Date.now(),
      recentPrefixBlocks: [11, 12, 13],
    },
    ...overrides,
  };
}

export function conversationStarted(
  conversationId: string,
  version: number,
): events.ConversationEvent {
  return {
    conversationId,
    tenantId: 'tenant-a',
    version,
    occurredAtMs: Date.now(),
    event: { $case: 'started', value: { model: 'llama-3-8b', systemPrompt: '', labels: {} } },
  };
}

/**
 * What the outbox suites share: a migrated database of their own, a conversations topic of their
 * own, a connected publisher, and a consumer group (`group`) from the beginning of the topic whose
 * deliveries land in `received`.
 */
export interface OutboxWorld {
  readonly database: TestDatabase;
  readonly conversations: Topic<events.ConversationEvent>;
  readonly publisher: EventPublisher;
  readonly subscriber: EventSubscriber;
  cleanup(): Promise<void>;
}

export async function startOutboxWorld(options: {
  readonly logger: MessagingLogger;
  readonly group: string;
  readonly received: DeliveredEvent<events.ConversationEvent>[];
}): Promise<OutboxWorld> {
  const [database, kafkaTopics] = await Promise.all([
    createTestDatabase(),
    createTestTopics({ conversations: 3 }),
  ]);
  await migrateOutbox(database.pool);
  const conversations = defineTopic(
    kafkaTopics.names.conversations,
    eventCodec('ConversationEvent'),
  );
  const messaging = testMessaging(options.logger);
  const publisher = await messaging.connectPublisher();
  const subscriber = messaging
    .createSubscriber({ groupId: kafkaTopics.groupId(options.group), fromBeginning: true })
    .subscribe(conversations, async (delivery) => {
      options.received.push(delivery);
    });
  await subscriber.start();
  return {
    database,
    conversations,
    publisher,
    subscriber,
    async cleanup() {
      await subscriber.stop();
      await publisher.close();
      await kafkaTopics.cleanup();
      await database.cleanup();
    },
  };
}
