import { performance } from 'node:perf_hooks';
import { Kafka, logLevel, type LogEntry, type RetryOptions } from 'kafkajs';
import { brokersUnreachable, withDeadline } from '../failures.js';
import type { MessagingLogger } from '../logger.js';
import { installRequestQueueTimerFix } from './request-queue-timer.js';

export interface KafkaClientSettings {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly connectTimeoutMs: number;
  readonly logger: MessagingLogger;
}

export function createKafkaClient(settings: KafkaClientSettings): Kafka {
  installRequestQueueTimerFix();
  return new Kafka({
    brokers: [...settings.brokers],
    clientId: settings.clientId,
    connectionTimeout: Math.min(3_000, settings.connectTimeoutMs),
    retry: retryWithin(settings.connectTimeoutMs),
    logLevel: logLevel.WARN,
    logCreator: () => (entry) => forward(settings.logger, entry),
  });
}

/**
 * kafkajs retries with exponential backoff, by default for ~30 s and, for an idempotent producer,
 * forever. Sizing the schedule to the connect budget makes every retry loop (connect, send, fetch)
 * give up at about the same bound, and leaves no retry timer running long after a failed connect.
 */
export function retryWithin(budgetMs: number): RetryOptions {
  const initialRetryTime = 100;
  const maxRetryTime = 1_000;
  let retries = 0;
  for (
    let wait = initialRetryTime, spent = 0;
    spent + wait <= budgetMs;
    wait = Math.min(wait * 2, maxRetryTime)
  ) {
    spent += wait;
    retries++;
  }
  return { initialRetryTime, maxRetryTime, multiplier: 2, retries: Math.max(retries, 1) };
}

/**
 * Runs a kafkajs connect within the budget. On failure the half-open client is disconnected and
 * the error names the brokers, so an outage reads as one line instead of a retry storm.
 */
export async function connectWithin(
  settings: KafkaClientSettings,
  connect: () => Promise<void>,
  disconnect: () => Promise<void>,
): Promise<void> {
  const started = performance.now();
  try {
    await withDeadline(connect(), settings.connectTimeoutMs);
  } catch (error) {
    await disconnect().catch(() => undefined);
    throw brokersUnreachable(settings.brokers, performance.now() - started, error);
  }
}

// We bound the idempotent producer's retries on purpose (see retryWithin): a send that still fails
// is retried by its caller, and consumers drop the re-sent copy by ce_id.
const EXPECTED_WARNINGS = [
  'Limiting retries for the idempotent producer may invalidate EoS guarantees',
];

function forward(logger: MessagingLogger, entry: LogEntry): void {
  const {
    message,
    timestamp: _timestamp,
    logger: _name,
    ...fields
  } = entry.log as Record<string, unknown> & {
    message: string;
  };
  if (EXPECTED_WARNINGS.includes(message)) return;
  const enriched = { ...fields, namespace: entry.namespace };
  switch (entry.level) {
    case logLevel.ERROR:
      logger.error(`kafkajs: ${message}`, enriched);
      return;
    case logLevel.WARN:
      logger.warn(`kafkajs: ${message}`, enriched);
      return;
    case logLevel.INFO:
      logger.info(`kafkajs: ${message}`, enriched);
      return;
    case logLevel.DEBUG:
    case logLevel.NOTHING:
      logger.debug(`kafkajs: ${message}`, enriched);
      return;
  }
}
