import type { events } from '@spillway/contracts';
import { waitFor, type TestDatabase } from '@spillway/testing';
import type { Pool, PoolClient } from 'pg';
import {
  OutboxRelay,
  enqueueOutbox,
  outboxInsert,
  outboxInsertFrom,
  outboxTopicValues,
  type DeliveredEvent,
  type EncodedEvent,
  type EncodedEventPublisher,
  type EventPublisher,
  type EventSubscriber,
  type OutgoingEvent,
  type Topic,
} from '../src/index.js';
import {
  capturingLogger,
  conversationStarted,
  startOutboxWorld,
  type OutboxWorld,
} from './fixtures.js';

const SOURCE = '/spillway/conversation-state';

/**
 * The relay's process dying between "sent to Kafka" and "marked published": after `healthyBatches`
 * batches it sends one more batch and then fails, and it never gets anything out again.
 */
class CrashAfterSend implements EncodedEventPublisher {
  batches = 0;
  crashed = false;
  constructor(
    private readonly inner: EncodedEventPublisher,
    private readonly healthyBatches: number,
  ) {}

  async publishEncoded(batch: readonly EncodedEvent[]): Promise<void> {
    if (this.crashed) throw new Error('relay process is dead');
    await this.inner.publishEncoded(batch);
    if (++this.batches > this.healthyBatches) {
      this.crashed = true;
      throw new Error('relay process died after sending, before committing');
    }
  }
}

async function inTransaction(
  pool: Pool,
  work: (client: PoolClient) => Promise<void>,
  commit = true,
): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await work(client);
    await client.query(commit ? 'COMMIT' : 'ROLLBACK');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

describe('transactional outbox', () => {
  let world: OutboxWorld;
  let database: TestDatabase;
  let conversations: Topic<events.ConversationEvent>;
  let publisher: EventPublisher;
  let subscriber: EventSubscriber;
  const received: DeliveredEvent<events.ConversationEvent>[] = [];
  const logger = capturingLogger();

  beforeAll(async () => {
    world = await startOutboxWorld({ logger, group: 'projection', received });
    ({ database, conversations, publisher, subscriber } = world);
  });

  afterAll(async () => {
    await world?.cleanup();
  });

  const enqueue = (client: PoolClient, batch: readonly OutgoingEvent<events.ConversationEvent>[]) =>
    enqueueOutbox(client, conversations, batch, { source: SOURCE });

  it('publishes every committed row exactly once across a relay crash, and never a rolled-back row', async () => {
    const keys = Array.from({ length: 20 }, (_, i) => `crash-conv-${i}`);
    const rolledBack: string[] = [];
    let version = 0;
    for (let transaction = 0; transaction < 10; transaction++) {
      await inTransaction(database.pool, async (client) => {
        version++;
        // 50 rows per transaction: every conversation gets versions `version*..` in order.
        const batch = Array.from({ length: 50 }, (_, i) => ({
          key: keys[i % keys.length]!,
          event: conversationStarted(
            keys[i % keys.length]!,
            version * 10 + Math.floor(i / keys.length),
          ),
        }));
        await enqueue(client, batch);
      });
      if (transaction === 4) {
        await inTransaction(
          database.pool,
          async (client) => {
            const [event] = await enqueue(client, [
              { key: 'crash-rolled-back', event: conversationStarted('crash-rolled-back', 1) },
            ]);
            rolledBack.push(event!.id);
          },
          false,
        );
      }
    }
    const committed = await database.pool.query<{ count: string }>(
      'SELECT count(*) FROM public.outbox',
    );
    expect(Number(committed.rows[0]!.count)).toBe(500);

    const batchSize = 40;
    const crashing = new CrashAfterSend(publisher, 3);
    const first = new OutboxRelay({ pool: database.pool, publisher: crashing, batchSize, logger });
    await first.start();
    await waitFor(() => crashing.crashed, { description: 'the first relay to crash' });
    await first.stop();
    // The first relay sent three healthy batches and a fourth it could not mark published. Kafka
    // delivery is asynchronous, so wait for the consumer to see all four before restarting.
    expect(crashing.batches).toBe(4);
    await waitFor(() => received.length === 4 * batchSize, {
      description: 'the consumer to receive the four batches the first relay sent',
      timeoutMs: 20_000,
    });

    const second = new OutboxRelay({ pool: database.pool, publisher, batchSize, logger });
    await second.start();
    await waitFor(
      () =>
        new Set(received.map((delivery) => delivery.metadata.id)).size === 500 &&
        subscriber.stats().duplicates === batchSize,
      {
        description: '500 distinct events and the re-sent batch',
        timeoutMs: 20_000,
      },
    );
    await second.stop();

    const ids = received.map((delivery) => delivery.metadata.id);
    const unpublished = await database.pool.query<{ count: string }>(
      'SELECT count(*) FROM public.outbox WHERE published_at IS NULL',
    );
    expect(Number(unpublished.rows[0]!.count)).toBe(0);
    expect(new Set(ids).size).toBe(500);
    expect(ids).toHaveLength(500); // the handler never saw a duplicate
    expect(ids).not.toContain(rolledBack[0]);
    expect(received.some((delivery) => delivery.metadata.key === 'crash-rolled-back')).toBe(false);
    // Raw records on the topic: 500 + the batch the first relay sent but could not mark.
    expect(subscriber.stats().duplicates).toBe(batchSize);
    for (const key of keys) {
      const versions = received
        .filter((delivery) => delivery.metadata.key === key)
        .map((delivery) => delivery.event.version);
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
    }
    process.stdout.write(
      `outbox crash test: 500 rows committed, ${ids.length} distinct delivered, ${subscriber.stats().duplicates} raw duplicates dropped by ce_id\n`,
    );
  });

  it('keeps per-key order: each conversation arrives in version order', async () => {
    const keys = ['order-a', 'order-b', 'order-c', 'order-d', 'order-e'];
    const versions = 40;
    // Interleaved across keys and spread over many small transactions and odd-sized relay batches.
    for (let version = 1; version <= versions; version += 4) {
      await inTransaction(database.pool, async (client) => {
        for (let step = version; step < version + 4; step++) {
          await enqueue(
            client,
            keys.map((key) => ({ key, event: conversationStarted(key, step) })),
          );
        }
      });
    }
    const relay = new OutboxRelay({ pool: database.pool, publisher, batchSize: 7, logger });
    await relay.start();
    const ofKey = (key: string) => received.filter((delivery) => delivery.metadata.key === key);
    await waitFor(() => keys.every((key) => ofKey(key).length === versions), {
      description: `${versions} versions of ${keys.length} conversations`,
    });
    await relay.stop();

    for (const key of keys) {
      expect(ofKey(key).map((delivery) => delivery.event.version)).toEqual(
        Array.from({ length: versions }, (_, i) => i + 1),
      );
      // One key, one partition: that is where the order comes from.
      expect(new Set(ofKey(key).map((delivery) => delivery.metadata.partition)).size).toBe(1);
    }
  });

  it('reads past published rows, but never past a row whose transaction is still open', async () => {
    const relay = new OutboxRelay({ pool: database.pool, publisher, batchSize: 7, logger });
    const rowId = async (eventId: string) =>
      BigInt(
        (
          await database.pool.query<{ id: string }>(
            'SELECT id::text AS id FROM outbox WHERE event_id = $1',
            [eventId],
          )
        ).rows[0]!.id,
      );
    // A transaction numbers its row, then stays open while later rows commit and are published.
    const open = await database.pool.connect();
    let lateEventId: string;
    try {
      await open.query('BEGIN');
      const [late] = await enqueue(open, [
        { key: 'floor-late', event: conversationStarted('floor-late', 1) },
      ]);
      lateEventId = late!.id;
      const lateId = BigInt(
        (await open.query<{ id: string }>('SELECT max(id)::text AS id FROM outbox')).rows[0]!.id,
      );
      const early: string[] = [];
      for (let transaction = 0; transaction < 5; transaction++) {
        await inTransaction(database.pool, async (client) => {
          const key = `floor-early-${transaction}`;
          const sent = await enqueue(
            client,
            Array.from({ length: 10 }, (_, version) => ({
              key,
              event: conversationStarted(key, version + 1),
            })),
          );
          early.push(...sent.map((event) => event.id));
        });
      }
      expect(await rowId(early[0]!)).toBeGreaterThan(lateId);
      await relay.start();
      await waitFor(
        () => early.every((id) => received.some((delivery) => delivery.metadata.id === id)),
        { description: 'the 50 later rows published', timeoutMs: 20_000 },
      );
      // Idle reads, with the open transaction holding the server's xmin back.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(relay.readFloor).toBeLessThan(lateId);
      await open.query('COMMIT');
    } catch (error) {
      await open.query('ROLLBACK');
      throw error;
    } finally {
      open.release();
    }
    await waitFor(() => received.some((delivery) => delivery.metadata.id === lateEventId), {
      description: 'the row committed last, numbered first, published',
      timeoutMs: 20_000,
    });
    // Once every transaction that numbered a row has ended, the floor passes them all.
    const last = BigInt(
      (await database.pool.query<{ id: string }>('SELECT max(id)::text AS id FROM outbox')).rows[0]!
        .id,
    );
    try {
      await waitFor(() => relay.readFloor >= last, {
        description: `the read floor to reach row ${last}`,
        timeoutMs: 20_000,
      });
    } finally {
      await relay.stop();
    }
  });

  it('sends and marks again the rows whose mark failed, without waiting for more traffic', async () => {
    // The pool the relay marks through loses one mark: Kafka has the rows, the outbox does not know.
    let lostMarks = 0;
    const pool = database.pool;
    const flaky = new Proxy(pool, {
      get(target, property) {
        if (property === 'query')
          return (text: unknown, values?: unknown[]) => {
            if (typeof text === 'string' && text.startsWith('UPDATE') && lostMarks === 0) {
              lostMarks++;
              return Promise.reject(new Error('connection reset while marking'));
            }
            return target.query(text as string, values);
          };
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    });
    const key = 'lost-mark';
    await inTransaction(pool, async (client) => {
      await enqueue(
        client,
        Array.from({ length: 12 }, (_, version) => ({
          key,
          event: conversationStarted(key, version + 1),
        })),
      );
    });
    const failuresBefore = logger.lines.filter((line) => line.message.includes('cycle failed'));
    const relay = new OutboxRelay({ pool: flaky, publisher, logger });
    await relay.start();
    try {
      // Nothing else is written: only the relay noticing its failed mark can publish them again.
      await waitFor(
        async () =>
          (
            await pool.query<{ count: string }>(
              'SELECT count(*) FROM outbox WHERE key = $1 AND published_at IS NULL',
              [key],
            )
          ).rows[0]!.count === '0',
        { description: 'the 12 rows marked published after the lost mark', timeoutMs: 10_000 },
      );
    } finally {
      await relay.stop();
    }
    expect(lostMarks).toBe(1);
    const failures = logger.lines.filter((line) => line.message.includes('cycle failed'));
    expect(failures.length).toBeGreaterThan(failuresBefore.length);
    await waitFor(() => received.filter((delivery) => delivery.metadata.key === key).length >= 12, {
      description: 'the 12 events delivered',
    });
    const versions = received
      .filter((delivery) => delivery.metadata.key === key)
      .map((delivery) => delivery.event.version);
    expect(versions).toEqual(Array.from({ length: 12 }, (_, i) => i + 1)); // the copies dropped
  });

  it('gives a transaction its id before it numbers any outbox row, in both forms of the insert', async () => {
    const events = [{ key: 'plan', event: conversationStarted('plan', 1) }];
    const direct = outboxInsert(conversations, events, { source: SOURCE });
    const [topicName, type] = outboxTopicValues(conversations);
    const fromRows = {
      sql: `WITH submitted AS (
              SELECT gen_random_uuid() AS event_id, 'plan'::text AS key, '\\x00'::bytea AS payload,
                     '{}'::jsonb AS headers, 1 AS position)
            ${outboxInsertFrom('submitted', 1)}`,
      values: [topicName, type],
    };
    for (const insert of [direct, fromRows]) {
      const { rows } = await database.pool.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN (VERBOSE) ${insert.sql}`,
        [...insert.values],
      );
      const plan = rows.map((row) => row['QUERY PLAN']);
      // The id's nextval is computed above (after) the node whose one-time filter takes the
      // transaction id: the filter runs before the node yields its first row.
      const numbering = plan.findIndex((line) => line.includes("nextval('outbox_id_seq'"));
      const gate = plan.findIndex((line) =>
        line.includes('One-Time Filter: (pg_current_xact_id() IS NOT NULL)'),
      );
      expect({ numbering: numbering >= 0, gate: gate >= 0 }).toEqual({
        numbering: true,
        gate: true,
      });
      expect(gate).toBeGreaterThan(numbering);
    }
  });

  it('wakes on NOTIFY when a transaction commits, without waiting for a poll', async () => {
    // A poll interval far beyond the wait below: only the notification can wake this relay.
    const relay = new OutboxRelay({
      pool: database.pool,
      publisher,
      pollIntervalMs: 600_000,
      logger,
    });
    await relay.start();
    await inTransaction(database.pool, async (client) => {
      await enqueue(client, [{ key: 'notify-1', event: conversationStarted('notify-1', 1) }]);
    });
    await waitFor(() => received.some((delivery) => delivery.metadata.key === 'notify-1'), {
      description: 'the event relayed after NOTIFY',
      timeoutMs: 10_000,
    });
    await relay.stop();
  });
});
