import { randomUUID } from 'node:crypto';
import { conversation, type events } from '@spillway/contracts';
import { DomainError } from '@spillway/errors';
import { createGrpcClient } from '@spillway/grpc';
import {
  createKafkaMessaging,
  defineTopic,
  eventCodec,
  silentLogger,
  type DeliveredEvent,
  type EventSubscriber,
} from '@spillway/messaging';
import {
  createTestDatabase,
  createTestTopics,
  startPrivateKafka,
  startPrivatePostgres,
  waitFor,
  type PrivateKafka,
  type PrivatePostgres,
  type TestDatabase,
  type TestTopics,
} from '@spillway/testing';
import { conversationStateConfigSchema } from '../src/config.js';
import {
  startConversationState,
  type RunningConversationState,
} from '../src/conversation-state.app.js';
import type { ConversationStoreClient } from './support/harness.js';
import { startedEvent, userEvent } from './support/requests.js';

// Kafka and PostgreSQL restarted under traffic, on private instances (the shared ones are never
// touched): no acknowledged append is lost, the outbox catches up, a de-duplicating consumer sees
// every stored event exactly once and in order, and an append refused during the outage got a
// retryable DEPENDENCY.UNAVAILABLE (gRPC UNAVAILABLE) and left all of its events or none.

const TENANT = 'tenant-outage';
const WRITERS = 4;
const EVENTS_PER_APPEND = 2;
const PACE_MS = 25;
// Bounds on the traffic loop; the phases below normally stop it much earlier.
const MAX_ATTEMPTS_PER_WRITER = 4_000;
const TRAFFIC_LIMIT_MS = 240_000;

type Phase = 'before' | 'kafka-down' | 'kafka-back' | 'postgres-down' | 'postgres-back';

interface Attempt {
  readonly conversationId: string;
  readonly eventIds: readonly string[];
  readonly phase: Phase;
  readonly refusal?: DomainError;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('conversation-state through a Kafka and a PostgreSQL restart', () => {
  let postgres: PrivatePostgres | undefined;
  let kafka: PrivateKafka | undefined;
  let database: TestDatabase | undefined;
  let topics: TestTopics<'conversations'> | undefined;
  let service: RunningConversationState | undefined;
  let client: ConversationStoreClient | undefined;
  let subscriber: EventSubscriber | undefined;
  const received: DeliveredEvent<events.ConversationEvent>[] = [];

  beforeAll(async () => {
    [postgres, kafka] = await Promise.all([startPrivatePostgres(), startPrivateKafka()]);
    database = await createTestDatabase({ serverUrl: postgres.url });
    topics = await createTestTopics(
      { conversations: 3 },
      { brokers: kafka.brokers, logger: silentLogger },
    );
    const config = conversationStateConfigSchema.parse({
      GRPC_PORT: '0',
      DATABASE_URL: database.url,
      DATABASE_POOL_SIZE: '6',
      KAFKA_BROKERS: kafka.brokers.join(','),
      CONVERSATION_EVENTS_TOPIC: topics.names.conversations,
      CONVERSATION_EVENTS_PARTITIONS: '3',
      SNAPSHOT_EVERY: '10',
      OUTBOX_POLL_INTERVAL_MS: '20',
    });
    service = await startConversationState(config, { logger: false });
    client = createGrpcClient(
      conversation.ConversationStoreDefinition,
      `127.0.0.1:${service.port}`,
      { defaultDeadlineMs: 15_000 },
    );
    // The consumer runs through both outages; LRU de-duplication by ce_id is libs/messaging's.
    subscriber = createKafkaMessaging({
      brokers: kafka.brokers,
      clientId: 'conversation-state-outage-test',
      source: '/spillway/test',
      logger: silentLogger,
      consumer: { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500, maxWaitTimeMs: 100 },
    })
      .createSubscriber({ groupId: topics.groupId('reader'), fromBeginning: true })
      .subscribe(
        defineTopic(topics.names.conversations, eventCodec('ConversationEvent')),
        async (delivery) => {
          received.push(delivery);
        },
      );
    await subscriber.start();
  }, 240_000);

  afterAll(async () => {
    client?.close();
    await subscriber?.stop().catch(() => undefined);
    await service?.close().catch(() => undefined);
    await topics?.cleanup().catch(() => undefined);
    await database?.cleanup().catch(() => undefined);
    await Promise.all([kafka?.cleanup(), postgres?.cleanup()]);
  }, 120_000);

  it('loses no acknowledged append, publishes every stored event once, and refuses only retryably', async () => {
    const store = client!;
    const acknowledged: Attempt[] = [];
    const refused: Attempt[] = [];
    let phase: Phase = 'before';
    let stopTraffic = false;
    const trafficDeadline = Date.now() + TRAFFIC_LIMIT_MS;

    /** One conversation appended to back to back at its expected version, as a router does. */
    const writer = async (index: number): Promise<void> => {
      const conversationId = randomUUID();
      let version = 0;
      let resync = false;
      for (
        let attempt = 0;
        attempt < MAX_ATTEMPTS_PER_WRITER && !stopTraffic && Date.now() < trafficDeadline;
        attempt++
      ) {
        await sleep(PACE_MS);
        if (resync) {
          // A refused append may still have committed (maybeApplied): the stream says where it is.
          try {
            version = await currentVersion(store, conversationId);
            resync = false;
          } catch {
            continue;
          }
        }
        const batch =
          version === 0
            ? [startedEvent(), userEvent(`w${index}-t0`, 'hello')]
            : Array.from({ length: EVENTS_PER_APPEND }, (_, n) =>
                userEvent(`w${index}-v${version}-${n}`, `turn at ${version}`),
              );
        const sent = { conversationId, eventIds: batch.map((event) => event.eventId), phase };
        try {
          const response = await store.appendEvents({
            tenantId: TENANT,
            conversationId,
            expectedVersion: version,
            events: batch,
          });
          version = response.nextVersion;
          acknowledged.push(sent);
        } catch (error) {
          // Filed under the phase the refusal came back in: an append sent just before
          // PostgreSQL stopped is refused by that outage, not by the phase it was sent in.
          refused.push({ ...sent, phase, refusal: asDomainError(error) });
          resync = true;
        }
      }
    };

    const acknowledgedIn = (of: Phase) => acknowledged.filter((a) => a.phase === of).length;
    const traffic = Promise.all(Array.from({ length: WRITERS }, (_, index) => writer(index)));
    try {
      await waitFor(() => acknowledged.length >= 20, {
        description: 'traffic to get going',
        timeoutMs: 30_000,
      });

      // (a) Kafka stops: appends only need PostgreSQL, so they keep being acknowledged.
      phase = 'kafka-down';
      await kafka!.stop();
      await waitFor(() => acknowledgedIn('kafka-down') >= 40, {
        description: 'appends acknowledged while Kafka is down',
        timeoutMs: 30_000,
      });
      await kafka!.start();
      phase = 'kafka-back';
      await waitFor(() => acknowledgedIn('kafka-back') >= 20, {
        description: 'appends acknowledged after Kafka is back',
        timeoutMs: 30_000,
      });

      // (b) PostgreSQL crashes (immediate shutdown: no checkpoint, recovery from WAL on start).
      phase = 'postgres-down';
      await postgres!.stop('immediate');
      await waitFor(() => refused.filter((a) => a.phase === 'postgres-down').length >= 3, {
        description: 'appends refused while PostgreSQL is down',
        timeoutMs: 30_000,
      });
      await postgres!.start();
      phase = 'postgres-back';
      await waitFor(() => acknowledgedIn('postgres-back') >= 20, {
        description: 'appends acknowledged after PostgreSQL is back',
        timeoutMs: 60_000,
      });
    } finally {
      stopTraffic = true;
      await traffic;
    }

    // Everything PostgreSQL holds now, read after traffic stopped.
    const pool = database!.pool;
    const stored = await waitFor(
      async () =>
        (
          await pool.query<{ event_id: string; stream_id: string; version: number }>(
            'SELECT event_id, stream_id, version FROM events ORDER BY stream_id, version',
          )
        ).rows,
      { description: 'the event store to answer after the restart', timeoutMs: 30_000 },
    );
    const storedIds = new Set(stored.map((row) => row.event_id));

    // The outbox catches up, and the consumer gets every stored event. Kafka delivery is
    // asynchronous: wait for the last of them rather than sample a count.
    await waitFor(
      async () =>
        (await pool.query('SELECT 1 FROM outbox WHERE published_at IS NULL LIMIT 1')).rowCount ===
        0,
      { description: 'the outbox to drain', timeoutMs: 60_000 },
    );
    await waitFor(
      () => {
        const seen = new Set(received.map((delivery) => delivery.metadata.id));
        return stored.every((row) => seen.has(row.event_id));
      },
      { description: `all ${stored.length} stored events on the topic`, timeoutMs: 60_000 },
    );

    // 1. No acknowledged append is lost.
    const lost = acknowledged.flatMap((a) => a.eventIds.filter((id) => !storedIds.has(id)));
    expect(lost).toEqual([]);
    expect(acknowledgedIn('kafka-down')).toBeGreaterThanOrEqual(40);

    // 2. The consumer (after libs/messaging's de-duplication by ce_id) saw each stored event
    //    exactly once, nothing that was not stored, and every conversation in version order.
    const deliveredIds = received.map((delivery) => delivery.metadata.id);
    expect(deliveredIds.length).toBe(new Set(deliveredIds).size);
    expect([...new Set(deliveredIds)].sort()).toEqual([...storedIds].sort());
    const streams = new Map<string, number[]>();
    for (const row of stored)
      streams.set(row.stream_id, [...(streams.get(row.stream_id) ?? []), row.version]);
    for (const [conversationId, versions] of streams) {
      const onTopic = received
        .filter((delivery) => delivery.metadata.key === conversationId)
        .map((delivery) => delivery.event.version);
      expect(onTopic).toEqual(versions);
    }

    // 3. Refusals: only while PostgreSQL was down or coming back (Kafka down refuses nothing),
    //    all retryable DEPENDENCY.UNAVAILABLE / gRPC UNAVAILABLE, none half-written.
    expect(refused.length).toBeGreaterThanOrEqual(3);
    expect(refused.filter((a) => a.phase.startsWith('kafka') || a.phase === 'before')).toEqual([]);
    for (const attempt of refused) {
      expect(attempt.refusal?.code).toBe('DEPENDENCY.UNAVAILABLE');
      expect(attempt.refusal?.retryable).toBe(true);
      expect(attempt.refusal?.details.grpcStatus).toBe('UNAVAILABLE');
      const kept = attempt.eventIds.filter((id) => storedIds.has(id)).length;
      expect([0, attempt.eventIds.length]).toContain(kept);
      // Only a connection lost while the commit was in flight may have kept the events.
      if (attempt.refusal?.details.maybeApplied !== true) expect(kept).toBe(0);
    }

    process.stdout.write(
      `outage test: ${acknowledged.length} appends acknowledged (${acknowledgedIn('kafka-down')} with Kafka down), ` +
        `${refused.length} refused with DEPENDENCY.UNAVAILABLE ` +
        `(${refused.filter((a) => a.refusal?.details.maybeApplied === true).length} maybe applied), ` +
        `${stored.length} events stored and delivered once; ` +
        `${subscriber!.stats().duplicates} re-sent records dropped by ce_id\n`,
    );
  }, 420_000);
});

async function currentVersion(
  store: ConversationStoreClient,
  conversationId: string,
): Promise<number> {
  try {
    const { currentVersion: version } = await store.readStream({
      tenantId: TENANT,
      conversationId,
      fromVersion: 1,
      maxCount: 1,
    });
    return version;
  } catch (error) {
    // The conversation's first append never committed.
    if (asDomainError(error).code === 'CONVERSATION.NOT_FOUND') return 0;
    throw error;
  }
}

function asDomainError(error: unknown): DomainError {
  if (error instanceof DomainError) return error;
  throw error;
}
