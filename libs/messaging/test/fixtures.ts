import { randomUUID } from 'node:crypto';
import type { events } from '@spillway/contracts';
import { testInfrastructure } from '@spillway/testing';
import { createKafkaMessaging, type Messaging, type MessagingLogger } from '../src/index.js';

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
