import { type events } from '@spillway/contracts';
import {
  createKafkaMessaging,
  defineTopic,
  topics,
  type EventPublisher,
} from '@spillway/messaging';
import type { LogPort, TurnUsage, TurnUsagePublisher } from '../../application/index.js';
import { messagingLog } from '../system/nest-log.js';
import { KafkaTurnUsagePublisher } from './turn-usage.kafka.publisher.js';

export interface DeferredUsageOptions {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly partitions: number;
  readonly log: LogPort;
}

/**
 * Connects to Kafka in the background, so a broker that is down delays usage records instead of
 * the router's start; records of turns that finish before the connection are dropped and counted.
 */
export class DeferredUsagePublisher implements TurnUsagePublisher {
  private publisher: EventPublisher | undefined;
  private usage: KafkaTurnUsagePublisher | undefined;
  private dropped = 0;
  private stopped = false;
  private readonly stopping = new AbortController();
  private connecting: Promise<void> | undefined;

  constructor(private readonly options: DeferredUsageOptions) {}

  record(usage: TurnUsage): void {
    if (this.usage !== undefined) return this.usage.record(usage);
    this.dropped++;
  }

  start(): void {
    this.connecting ??= this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    await this.connecting;
    await this.usage?.flush();
    await this.publisher?.close();
    if (this.dropped > 0)
      this.options.log.warn('usage records dropped while Kafka was not connected', {
        dropped: this.dropped,
      });
  }

  private async connect(): Promise<void> {
    const { brokers, topic, partitions, log } = this.options;
    const messaging = createKafkaMessaging({
      brokers,
      clientId: 'router',
      source: '/spillway/router',
      logger: messagingLog(log),
    });
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        const admin = await messaging.connectTopicAdmin();
        try {
          await admin.ensureTopics([{ name: topic, partitions }]);
        } finally {
          await admin.close();
        }
        const publisher = await messaging.connectPublisher();
        if (this.stopped) {
          await publisher.close();
          return;
        }
        this.publisher = publisher;
        this.usage = new KafkaTurnUsagePublisher(
          publisher,
          defineTopic<events.TurnUsageRecorded, string>(topic, topics.requests.codec),
          log,
        );
        log.info('publishing usage records', { topic });
        return;
      } catch (error) {
        log.warn('Kafka not reachable for usage records; retrying', {
          attempt,
          error: error instanceof Error ? error.message : String(error),
        });
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(10_000, 500 * attempt));
          this.stopping.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    }
  }
}
