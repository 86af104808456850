import { metrics, type Counter, type Histogram } from '@opentelemetry/api';
import type { Notification, Pool, PoolClient } from 'pg';
import type { EncodedEvent } from '../cloudevents.js';
import { DEFAULT_CONNECT_TIMEOUT_MS } from '../failures.js';
import { jsonLogger, type MessagingLogger } from '../logger.js';
import type { EncodedEventPublisher } from '../ports.js';
import { connectPostgres } from '../postgres.js';
import { outboxNames, type OutboxLocation, type OutboxNames } from './outbox-schema.js';

export interface OutboxRelayOptions extends OutboxLocation {
  readonly pool: Pool;
  readonly publisher: EncodedEventPublisher;
  /** Rows claimed and published per transaction. Default 100. */
  readonly batchSize?: number;
  /** Longest the relay sleeps, once the outbox is empty, when no NOTIFY arrives. Default 50 ms. */
  readonly pollIntervalMs?: number;
  /** Bound on getting a PostgreSQL connection. Default 10 s. */
  readonly connectTimeoutMs?: number;
  readonly logger?: MessagingLogger;
}

interface OutboxRow {
  readonly id: string;
  readonly event_id: string;
  readonly topic: string;
  readonly key: string;
  readonly type: string;
  readonly payload: Buffer;
  readonly headers: Record<string, unknown>;
  readonly lag_ms: number;
}

const MAX_BACKOFF_MS = 5_000;

/**
 * Moves committed outbox rows to Kafka, in id order. Each cycle is one transaction: claim a batch
 * and mark it published (one statement), publish it, commit. A crash or a failed publish before
 * the commit leaves the rows unpublished, so the next relay sends them again with the same ce_id and
 * consumers drop the copy: at-least-once publication, exactly-once as consumers see it.
 *
 * Only one relay per outbox publishes at a time (a transaction-scoped advisory lock). SKIP LOCKED
 * alone would let a second relay publish a later row of a key while the first still holds an
 * earlier one, which breaks per-key order; with the lock a standby relay simply finds nothing to do
 * until the active one dies.
 */
export class OutboxRelay {
  private readonly names: OutboxNames;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly connectTimeoutMs: number;
  private readonly logger: MessagingLogger;
  private readonly published: Counter;
  private readonly lag: Histogram;
  private readonly failures: Counter;

  private loop: Promise<void> | undefined;
  private stopping = false;
  private notified = false;
  private wake: (() => void) | undefined;
  private listener: { readonly client: PoolClient; detach(error?: Error): void } | undefined;

  constructor(private readonly options: OutboxRelayOptions) {
    this.names = outboxNames(options);
    this.batchSize = options.batchSize ?? 100;
    this.pollIntervalMs = options.pollIntervalMs ?? 50;
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.logger = options.logger ?? jsonLogger();
    const meter = metrics.getMeter('@spillway/messaging');
    this.published = meter.createCounter('spillway.outbox.published', {
      description: 'Outbox rows published to Kafka and marked published',
    });
    this.lag = meter.createHistogram('spillway.outbox.lag', {
      description: 'Time from writing an outbox row to its publication',
      unit: 'ms',
    });
    this.failures = meter.createCounter('spillway.outbox.relay.failures', {
      description: 'Relay cycles that failed and were retried',
    });
  }

  /** Connects (bounded; an unreachable database is a named error), then relays until stop(). */
  async start(): Promise<void> {
    if (this.loop) throw new Error(`outbox relay for ${this.names.table} is already running`);
    this.stopping = false;
    await this.listen();
    this.loop = this.run();
  }

  /** Lets the batch in hand finish and commit, then releases every connection. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    this.loop = undefined;
    await this.unlisten();
  }

  /** One claim → publish → mark cycle; returns the number of rows published. */
  async relayBatch(): Promise<number> {
    const client = await connectPostgres(this.options.pool, this.connectTimeoutMs);
    let broken: unknown;
    try {
      await client.query('BEGIN');
      const lock = await client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked',
        [this.names.lockName],
      );
      if (!lock.rows[0]?.locked) {
        await client.query('ROLLBACK');
        return 0;
      }
      // Claimed and marked in one statement; if publishing fails the ROLLBACK unmarks them.
      const { rows } = await client.query<OutboxRow>(
        `WITH claimed AS (
           UPDATE ${this.names.table} SET published_at = clock_timestamp()
            WHERE id IN (SELECT id FROM ${this.names.table}
                          WHERE published_at IS NULL
                          ORDER BY id
                          LIMIT $1
                            FOR UPDATE SKIP LOCKED)
           RETURNING id, event_id, topic, key, type, payload, headers,
                     extract(epoch FROM clock_timestamp() - created_at) * 1000 AS lag_ms)
         SELECT * FROM claimed ORDER BY id`,
        [this.batchSize],
      );
      if (rows.length > 0) await this.options.publisher.publishEncoded(rows.map(toEncodedEvent));
      await client.query('COMMIT');
      for (const row of rows) {
        this.published.add(1, { 'messaging.destination.name': row.topic });
        this.lag.record(Number(row.lag_ms), { 'messaging.destination.name': row.topic });
      }
      return rows.length;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError;
      }
      throw error;
    } finally {
      // A connection that cannot even roll back is discarded rather than returned to the pool.
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  private async run(): Promise<void> {
    let consecutiveFailures = 0;
    while (!this.stopping) {
      let published = 0;
      try {
        if (!this.listener) await this.listen();
        published = await this.relayBatch();
        consecutiveFailures = 0;
      } catch (error) {
        consecutiveFailures++;
        this.failures.add(1);
        this.logger.warn('outbox relay cycle failed; retrying', {
          outbox: this.names.table,
          consecutiveFailures,
          error: error instanceof Error ? error.message : String(error),
        });
      }
      if (this.stopping) break;
      // Rows found means more are probably being committed: poll again at once, and sleep (until
      // the interval passes or a writer's NOTIFY arrives) only once the outbox is empty. Writers
      // can then hint sparingly (OutboxWakeup) without adding latency while traffic flows.
      if (published > 0) continue;
      const backoff =
        consecutiveFailures === 0
          ? this.pollIntervalMs
          : this.pollIntervalMs * 2 ** consecutiveFailures;
      await this.idle(Math.min(backoff, MAX_BACKOFF_MS));
    }
  }

  /** Sleeps until the interval passes, a NOTIFY arrives, or stop() is called. */
  private idle(ms: number): Promise<void> {
    if (this.notified) {
      this.notified = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        this.notified = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private async listen(): Promise<void> {
    const client = await connectPostgres(this.options.pool, this.connectTimeoutMs);
    const onNotification = (message: Notification): void => {
      if (message.channel !== this.names.channel) return;
      this.notified = true;
      this.wake?.();
    };
    // Losing the LISTEN connection only costs latency: the loop keeps polling and listens again.
    const onError = (error: Error): void => {
      this.logger.warn('outbox relay lost its LISTEN connection; polling until it is back', {
        error: error.message,
      });
      detach(error);
    };
    const detach = (error?: Error): void => {
      client.off('notification', onNotification);
      client.off('error', onError);
      if (this.listener?.client === client) this.listener = undefined;
      client.release(error);
    };
    client.on('notification', onNotification);
    client.on('error', onError);
    try {
      await client.query(`LISTEN "${this.names.channel}"`);
    } catch (error) {
      detach(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
    this.listener = { client, detach };
  }

  private async unlisten(): Promise<void> {
    const listener = this.listener;
    if (!listener) return;
    try {
      await listener.client.query(`UNLISTEN "${this.names.channel}"`);
      listener.detach();
    } catch (error) {
      listener.detach(error instanceof Error ? error : new Error(String(error)));
    }
  }
}

function toEncodedEvent(row: OutboxRow): EncodedEvent {
  const { ce_source: source, ce_time: time, ...rest } = row.headers;
  if (typeof source !== 'string' || typeof time !== 'string') {
    throw new Error(`outbox row ${row.id} has no ce_source/ce_time in its headers`);
  }
  const traceContext: Record<string, string> = {};
  for (const [name, value] of Object.entries(rest))
    if (typeof value === 'string') traceContext[name] = value;
  return {
    topic: row.topic,
    id: row.event_id,
    type: row.type,
    source,
    time,
    key: row.key,
    data: row.payload,
    traceContext,
  };
}
