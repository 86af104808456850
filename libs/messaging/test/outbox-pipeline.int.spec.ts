import type { events } from '@spillway/contracts';
import { waitFor, type TestDatabase } from '@spillway/testing';
import type { Pool, PoolClient, QueryConfig } from 'pg';
import {
  OutboxRelay,
  enqueueOutbox,
  type DeliveredEvent,
  type EncodedEvent,
  type EncodedEventPublisher,
  type EventPublisher,
  type Topic,
} from '../src/index.js';
import {
  capturingLogger,
  conversationStarted,
  startOutboxWorld,
  type OutboxWorld,
} from './fixtures.js';

/** Passes sends to Kafka, recording each batch, how many were in flight, and failing on request. */
class RecordingPublisher implements EncodedEventPublisher {
  readonly batches: string[][] = [];
  maxInFlight = 0;
  private inFlight = 0;
  private held: (() => void) | undefined;
  holdNext = false;
  failNext = false;

  constructor(private readonly inner: EncodedEventPublisher) {}

  async publishEncoded(batch: readonly EncodedEvent[]): Promise<void> {
    this.batches.push(batch.map((event) => event.id));
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    try {
      if (this.holdNext) {
        this.holdNext = false;
        await new Promise<void>((resolve) => (this.held = resolve));
      }
      if (this.failNext) {
        this.failNext = false;
        throw new Error('broker refused the batch');
      }
      await this.inner.publishEncoded(batch);
    } finally {
      this.inFlight--;
    }
  }

  get holding(): boolean {
    return this.held !== undefined;
  }

  release(): void {
    this.held?.();
    this.held = undefined;
  }
}

/** The pool, with every statement the relay's connections send recorded. */
function recordingPool(pool: Pool, statements: string[]): Pool {
  return {
    connect: async () => {
      const client: PoolClient = await pool.connect();
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as unknown as { query: unknown }).query = (...args: unknown[]) => {
        // Text, or a query config ({ name, text, values }: the relay's prepared reads).
        const [first] = args as [string | { text?: unknown } | undefined];
        const text = typeof first === 'string' ? first : first?.text;
        if (typeof text === 'string') statements.push(text);
        return query(...args);
      };
      return client;
    },
    query: pool.query.bind(pool),
    options: pool.options,
  } as unknown as Pool;
}

describe('outbox relay: pipelined sends and leadership', () => {
  let world: OutboxWorld;
  let database: TestDatabase;
  let conversations: Topic<events.ConversationEvent>;
  let publisher: EventPublisher;
  const received: DeliveredEvent<events.ConversationEvent>[] = [];
  const logger = capturingLogger();

  beforeAll(async () => {
    world = await startOutboxWorld({ logger, group: 'pipeline', received });
    ({ database, conversations, publisher } = world);
  });

  afterAll(async () => {
    await world?.cleanup();
  });

  /** `versions` versions of each key, interleaved, committed `perTransaction` versions at a time. */
  async function enqueueVersions(keys: readonly string[], from: number, to: number) {
    for (let version = from; version <= to; version += 3) {
      const client = await database.pool.connect();
      try {
        await client.query('BEGIN');
        for (let step = version; step < Math.min(version + 3, to + 1); step++) {
          await enqueueOutbox(
            client,
            conversations,
            keys.map((key) => ({ key, event: conversationStarted(key, step) })),
            { source: '/spillway/test' },
          );
        }
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    }
  }

  const ofKey = (key: string) => received.filter((delivery) => delivery.metadata.key === key);
  const versionsOf = (key: string) => ofKey(key).map((delivery) => delivery.event.version);
  const upTo = (count: number) => Array.from({ length: count }, (_, index) => index + 1);

  async function unpublished(): Promise<number> {
    const { rows } = await database.pool.query<{ count: string }>(
      'SELECT count(*) FROM outbox WHERE published_at IS NULL',
    );
    return Number(rows[0]!.count);
  }

  it('reads the next batch while one is in flight, but never sends two at once', async () => {
    const keys = ['pipe-a', 'pipe-b', 'pipe-c'];
    await enqueueVersions(keys, 1, 30);
    const recording = new RecordingPublisher(publisher);
    const statements: string[] = [];
    recording.holdNext = true;
    const relay = new OutboxRelay({
      pool: recordingPool(database.pool, statements),
      publisher: recording,
      batchSize: 8,
      logger,
    });
    await relay.start();
    await waitFor(() => recording.holding, { description: 'the first send to be in flight' });
    // With the first batch unacknowledged, the relay reads the second, skipping the rows in flight.
    const reads = () => statements.filter((sql) => /FROM "public"\.outbox/.test(sql)).length;
    await waitFor(() => reads() >= 2, { description: 'a second read while the first send waits' });
    expect(recording.batches).toHaveLength(1);
    recording.release();

    await waitFor(() => keys.every((key) => ofKey(key).length >= 30), {
      description: '30 versions of each key on the topic',
      timeoutMs: 20_000,
    });
    await relay.stop();
    expect(recording.maxInFlight).toBe(1);
    const sent = recording.batches.flat();
    expect(new Set(sent).size).toBe(sent.length); // nothing sent twice
    for (const key of keys) expect(versionsOf(key)).toEqual(upTo(30));
    expect(await unpublished()).toBe(0);
  });

  it('drops the batch read behind a failed send and sends the failed one again first', async () => {
    const keys = ['fail-a', 'fail-b'];
    await enqueueVersions(keys, 1, 24);
    const recording = new RecordingPublisher(publisher);
    const relay = new OutboxRelay({
      pool: database.pool,
      publisher: recording,
      batchSize: 6,
      pollIntervalMs: 10,
      logger,
    });
    recording.holdNext = true;
    await relay.start();
    await waitFor(() => recording.holding, { description: 'the first send to be in flight' });
    recording.failNext = true; // the held send fails once released
    recording.release();

    await waitFor(() => keys.every((key) => ofKey(key).length >= 24), {
      description: '24 versions of each key on the topic',
      timeoutMs: 20_000,
    });
    await relay.stop();
    // The failed batch is the next one sent: the batch read behind it did not overtake it.
    expect(recording.batches[1]).toEqual(recording.batches[0]);
    for (const key of keys) expect(versionsOf(key)).toEqual(upTo(24));
    expect(await unpublished()).toBe(0);
    expect(logger.lines.some((line) => line.message.includes('cycle failed'))).toBe(true);
  });

  it('lets a standby take over when the leader loses its connection, keeping per-key order', async () => {
    const keys = ['lead-a', 'lead-b', 'lead-c'];
    const leader = new OutboxRelay({ pool: database.pool, publisher, batchSize: 5, logger });
    const standby = new OutboxRelay({
      pool: database.pool,
      publisher,
      batchSize: 5,
      pollIntervalMs: 20,
      logger,
    });
    await leader.start();
    await waitFor(async () => (await leaderPids()).length === 1, {
      description: 'the first relay to take the lead',
    });
    await standby.start();
    await enqueueVersions(keys, 1, 15);
    await waitFor(() => keys.every((key) => ofKey(key).length >= 15), {
      description: 'the first 15 versions, relayed by the leader',
      timeoutMs: 20_000,
    });
    const [first] = await leaderPids();
    await database.pool.query('SELECT pg_terminate_backend($1)', [first]);
    await enqueueVersions(keys, 16, 30);
    await waitFor(() => keys.every((key) => ofKey(key).length >= 30), {
      description: 'versions 16-30, relayed after the leader lost its connection',
      timeoutMs: 20_000,
    });
    expect(await leaderPids()).not.toContain(first);
    await Promise.all([leader.stop(), standby.stop()]);
    for (const key of keys) expect(versionsOf(key)).toEqual(upTo(30));
    expect(await unpublished()).toBe(0);
  });

  it('marks a batch with the time Kafka acknowledged it, not the time the mark ran', async () => {
    const key = 'ack-time';
    await enqueueVersions([key], 1, 3);
    let acknowledgedBy = Number.NaN;
    const acknowledging: EncodedEventPublisher = {
      publishEncoded: async (batch) => {
        await publisher.publishEncoded(batch);
        acknowledgedBy = Date.now();
      },
    };
    // The mark is held back before it reaches PostgreSQL: clock_timestamp() would be later.
    let markIssuedAt = Number.NaN;
    const slowMarks = {
      connect: database.pool.connect.bind(database.pool),
      // Text and values, or a query config ({ name, text, values }: the relay's prepared mark).
      query: async (query: string | { readonly text: string }, values?: unknown[]) => {
        const text = typeof query === 'string' ? query : query.text;
        if (text.startsWith('UPDATE')) {
          markIssuedAt = Date.now();
          await new Promise((resolve) => setTimeout(resolve, 300));
        }
        return typeof query === 'string'
          ? database.pool.query(query, values)
          : database.pool.query(query as QueryConfig);
      },
      options: database.pool.options,
    } as unknown as Pool;
    const relay = new OutboxRelay({ pool: slowMarks, publisher: acknowledging, logger });
    await relay.start();
    await waitFor(async () => (await unpublished()) === 0, {
      description: 'the rows marked published',
      timeoutMs: 20_000,
    });
    await relay.stop();
    const { rows } = await database.pool.query<{ ms: number }>(
      `SELECT extract(epoch FROM published_at) * 1000 AS ms FROM outbox
        WHERE key = $1`,
      [key],
    );
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      // Taken right after the publisher resolved: not before it, and before the mark was issued.
      expect(Number(row.ms)).toBeGreaterThanOrEqual(Math.floor(acknowledgedBy));
      expect(Number(row.ms)).toBeLessThanOrEqual(markIssuedAt);
    }
  });

  it('reads again soon after publishing, without waiting for a hint or the poll interval', async () => {
    const keys = ['busy-a', 'busy-b'];
    await enqueueVersions(keys, 1, 3);
    // Only the short re-poll after traffic can find the rows written below without NOTIFY: the
    // poll interval is far beyond the test's timeout.
    const relay = new OutboxRelay({
      pool: database.pool,
      publisher,
      pollIntervalMs: 600_000,
      busyWindowMs: 600_000,
      logger,
    });
    await relay.start();
    await waitFor(() => keys.every((key) => ofKey(key).length >= 3), {
      description: 'the first 3 versions, found by the first read',
      timeoutMs: 20_000,
    });
    for (let version = 4; version <= 9; version++) {
      const client = await database.pool.connect();
      try {
        await enqueueOutbox(
          client,
          conversations,
          keys.map((key) => ({ key, event: conversationStarted(key, version) })),
          { source: '/spillway/test', notify: false },
        );
      } finally {
        client.release();
      }
    }
    await waitFor(() => keys.every((key) => ofKey(key).length >= 9), {
      description: 'versions 4-9, written without a NOTIFY',
      timeoutMs: 20_000,
    });
    await relay.stop();
    for (const key of keys) expect(versionsOf(key)).toEqual(upTo(9));
    expect(await unpublished()).toBe(0);
  });

  /** Backends holding the outbox's leadership lock. */
  async function leaderPids(): Promise<number[]> {
    const { rows } = await database.pool.query<{ pid: number }>(
      `SELECT pid FROM pg_locks
        WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    return rows.map((row) => row.pid);
  }
});
