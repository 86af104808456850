import { randomUUID } from 'node:crypto';
import { defineTopic, eventCodec } from '@spillway/messaging';
import { createTestDatabase, type TestDatabase } from '@spillway/testing';
import type { DataSource } from 'typeorm';
import { AppendEvents } from '../src/application/append-events.js';
import type {
  AppendOutcome,
  Result,
} from '../src/application/ports/conversation-event-store.port.js';
import {
  createEventStoreDataSource,
  migrateEventStore,
} from '../src/adapters/persistence/data-source.js';
import { PostgresConversationEventStore } from '../src/adapters/persistence/postgres-event-store.js';
import { ConversationEventProto } from '../src/adapters/protobuf/proto.js';
import { completed, started, TENANT_ID, userTurn } from '../src/domain/conversation.fixtures.js';
import type { ConversationEvent } from '../src/domain/conversation.events.js';

const metadata = { correlationId: '', causationId: '', traceparent: '', idempotencyKey: '' };

/** The store on its own database, telling the test the size of every statement's group. */
describe('group commit: appends to different conversations in one statement', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let append: AppendEvents;
  const groups: number[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = createEventStoreDataSource({ url: database.url, poolSize: 4 });
    await dataSource.initialize();
    await migrateEventStore(dataSource);
    const store = new PostgresConversationEventStore(dataSource, {
      snapshotEvery: 5,
      stateCacheSize: 100,
      topic: defineTopic('test.conversations', eventCodec('ConversationEvent')),
      source: '/spillway/test',
      newId: randomUUID,
      groupCommit: { maxInFlight: 1, maxWrites: 64, onGroup: (writes) => groups.push(writes) },
    });
    append = new AppendEvents(store, randomUUID);
  });
  afterAll(async () => {
    if (dataSource?.isInitialized) await dataSource.destroy();
    await database?.cleanup();
  });

  function appendRaw(
    conversationId: string,
    expectedVersion: number,
    events: readonly { eventId: string; event: ConversationEvent }[],
  ): Promise<Result<AppendOutcome>> {
    return append.execute({
      tenantId: TENANT_ID,
      conversationId,
      expectedVersion,
      events,
      metadata,
    });
  }

  const withId = (event: ConversationEvent) => ({ eventId: randomUUID(), event });

  async function startedConversation(): Promise<{ id: string; eventId: string }> {
    const id = randomUUID();
    const start = withId(started());
    const result = await appendRaw(id, 0, [start]);
    expect(result.ok).toBe(true);
    return { id, eventId: start.eventId };
  }

  it('settles each append of a group on its own: a reused id and a lost race fail only their own', async () => {
    const conversations = [];
    for (let index = 0; index < 6; index++) conversations.push(await startedConversation());
    const [reusing, victim, raced, snapshotted, ...others] = conversations;
    groups.length = 0;

    // All submitted in one turn of the event loop, each on a cached state: one group.
    const racers = ['a', 'b'].map((turn) => appendRaw(raced!.id, 1, [withId(userTurn(turn))]));
    const reusedId = { eventId: victim!.eventId, event: userTurn('t1') };
    const outcomes = await Promise.all([
      appendRaw(reusing!.id, 1, [reusedId]),
      appendRaw(victim!.id, 1, [withId(userTurn('t1')), withId(completed('t1'))]),
      appendRaw(
        snapshotted!.id,
        1,
        ['s1', 's2'].flatMap((turn) => [withId(userTurn(turn)), withId(completed(turn))]),
      ),
      ...others.map((conversation) => appendRaw(conversation.id, 1, [withId(userTurn('t1'))])),
      ...racers,
    ]);

    expect(groups[0]).toBe(6);
    const [reusedOutcome, victimOutcome, snapshotOutcome, ...rest] = outcomes;
    expect(reusedOutcome).toMatchObject({
      ok: false,
      error: { code: 'REQUEST.INVALID', details: { field: 'events[0].event_id' } },
    });
    expect(!reusedOutcome.ok && reusedOutcome.error.message).toContain(victim!.eventId);
    expect(victimOutcome).toMatchObject({ ok: true, value: { version: 3, duplicate: false } });
    expect(snapshotOutcome).toMatchObject({ ok: true, value: { version: 5 } });
    const racerOutcomes = rest.slice(others.length);
    expect(rest.slice(0, others.length).every((outcome) => outcome.ok)).toBe(true);
    expect(racerOutcomes.filter((outcome) => outcome.ok)).toHaveLength(1);
    expect(racerOutcomes.find((outcome) => !outcome.ok)).toMatchObject({
      error: { code: 'CONVERSATION.VERSION_CONFLICT' },
    });

    // Stored: contiguous versions per stream, and the outbox holds exactly the stored events, in
    // stream order, for the streams that moved and nothing for the refused append.
    const { rows: events } = await database.pool.query<{ stream_id: string; event_id: string }>(
      'SELECT stream_id, event_id FROM events ORDER BY stream_id, version',
    );
    const { rows: outbox } = await database.pool.query<{
      key: string;
      event_id: string;
      payload: Buffer;
    }>('SELECT key, event_id, payload FROM outbox ORDER BY id');
    for (const conversation of conversations) {
      const stored = events.filter((row) => row.stream_id === conversation.id);
      const queued = outbox.filter((row) => row.key === conversation.id);
      expect(queued.map((row) => row.event_id)).toEqual(stored.map((row) => row.event_id));
      expect(queued.map((row) => ConversationEventProto.decode(row.payload).version)).toEqual(
        stored.map((_, index) => index + 1),
      );
    }
    expect(events.filter((row) => row.stream_id === reusing!.id)).toHaveLength(1);
    const { rows: snapshots } = await database.pool.query<{ stream_id: string; version: number }>(
      'SELECT stream_id, version FROM snapshots',
    );
    expect(snapshots).toEqual([{ stream_id: snapshotted!.id, version: 5 }]);
  });

  it('answers a retried append from the group as the original', async () => {
    const conversation = await startedConversation();
    const turn = [withId(userTurn('t1')), withId(completed('t1'))];
    const first = await appendRaw(conversation.id, 1, turn);
    const again = await appendRaw(conversation.id, 1, turn);
    expect(first.ok && again.ok).toBe(true);
    if (first.ok && again.ok) {
      expect(again.value).toMatchObject({
        version: first.value.version,
        lastGlobalPosition: first.value.lastGlobalPosition,
        duplicate: true,
      });
    }
  });
});
