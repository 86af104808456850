import { setTimeout as delay } from 'node:timers/promises';
import {
  createPostgresPool,
  type EventPublisher,
  type Messaging,
  type MessagingLogger,
  OutboxRelay,
} from '@spillway/messaging';
import type { Pool } from 'pg';

export interface LifecycleEventRelayOptions {
  readonly messaging: Messaging;
  readonly databaseUrl: string;
  readonly topic: { readonly name: string; readonly partitions: number };
  readonly logger: MessagingLogger;
}

const MAX_RETRY_MS = 5_000;

/**
 * Publishes the outbox to Kafka in the background. The registry serves without Kafka: events
 * wait in the outbox until the broker is back, so a broker outage delays them and loses none.
 */
export class LifecycleEventRelay {
  private readonly pool: Pool;
  private publisher: EventPublisher | undefined;
  private relay: OutboxRelay | undefined;
  private running: Promise<void> | undefined;
  private readonly stopped = new AbortController();

  constructor(private readonly options: LifecycleEventRelayOptions) {
    // Its own small pool: the relay holds one connection for LISTEN and one per batch.
    this.pool = createPostgresPool(options.databaseUrl, { max: 2, logger: options.logger });
  }

  start(): void {
    this.running ??= this.connectAndRelay();
  }

  async stop(): Promise<void> {
    this.stopped.abort();
    await this.running;
    await this.relay?.stop();
    await this.publisher?.close().catch(() => undefined);
    await this.pool.end();
  }

  private async connectAndRelay(): Promise<void> {
    for (let attempt = 0; !this.stopped.signal.aborted; attempt++) {
      try {
        this.publisher ??= await this.options.messaging.connectPublisher();
        const admin = await this.options.messaging.connectTopicAdmin();
        try {
          await admin.ensureTopics([this.options.topic]);
        } finally {
          await admin.close();
        }
        if (this.stopped.signal.aborted) return;
        this.relay = new OutboxRelay({
          pool: this.pool,
          publisher: this.publisher,
          logger: this.options.logger,
        });
        await this.relay.start();
        return;
      } catch (error) {
        this.relay = undefined;
        const retryMs = Math.min(MAX_RETRY_MS, 250 * 2 ** attempt);
        this.options.logger.warn(
          'lifecycle events wait in the outbox: cannot reach Kafka or PostgreSQL yet',
          {
            retryMs,
            error: error instanceof Error ? error.message : String(error),
          },
        );
        await sleep(retryMs, this.stopped.signal);
      }
    }
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return delay(ms, undefined, { signal }).catch(() => undefined);
}
