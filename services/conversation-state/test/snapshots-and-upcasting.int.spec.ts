import { randomUUID } from 'node:crypto';
import { events } from '@spillway/contracts';
import { harnessForSuite } from './support/harness.js';
import { completeRequest, startRequest, userMessage, userRequest } from './support/requests.js';

const TENANT = 'tenant-snap';

describe('snapshots and upcasting on the read path', () => {
  const harness = harnessForSuite({ SNAPSHOT_EVERY: '5' });

  async function conversationWithTurns(turns: number): Promise<string> {
    const { conversationId } = await harness().client.startConversation(startRequest(TENANT));
    for (let index = 1; index <= turns; index++) {
      const turn = await harness().client.appendUserMessage(
        userRequest(TENANT, conversationId, `question ${index}`),
      );
      await harness().client.completeAssistantMessage(
        completeRequest(TENANT, conversationId, turn.turnId, `answer ${index}`),
      );
    }
    return conversationId;
  }

  /** Writes a row the way the v1 writer did: no idempotency key in the body, only in the metadata. */
  async function appendV1UserMessage(
    conversationId: string,
    version: number,
    content: string,
    idempotencyKey: string,
  ): Promise<string> {
    const eventId = randomUUID();
    const body = events.ConversationEvent.encode({
      conversationId,
      tenantId: TENANT,
      version,
      occurredAtMs: Date.now(),
      event: {
        $case: 'userMessageAppended',
        value: { turnId: '', messages: [userMessage(content)], idempotencyKey: '' },
      },
    }).finish();
    await harness().database.pool.query(
      `INSERT INTO events (event_id, stream_id, version, type, schema_version, payload, metadata, idempotency_key, occurred_at)
       VALUES ($1, $2, $3, 'UserMessageAppended', 1, $4, $5, $6, now())`,
      [
        eventId,
        conversationId,
        version,
        Buffer.from(body),
        JSON.stringify({ idempotencyKey }),
        idempotencyKey,
      ],
    );
    await harness().database.pool.query('UPDATE streams SET version = $2 WHERE id = $1', [
      conversationId,
      version,
    ]);
    return eventId;
  }

  it('snapshots every N events and rebuilds state from the snapshot plus the events after it', async () => {
    const conversationId = await conversationWithTurns(6); // versions 1..13
    const snapshot = await harness().database.pool.query<{ version: number }>(
      'SELECT version FROM snapshots WHERE stream_id = $1',
      [conversationId],
    );
    expect(snapshot.rows[0]?.version).toBe(10);

    // Mark the snapshot, so the answer shows it was read instead of a replay from version 1.
    await harness().database.pool.query(
      `UPDATE snapshots SET state = jsonb_set(state::jsonb, '{model}', '"model-from-snapshot"')::json
        WHERE stream_id = $1`,
      [conversationId],
    );
    // A new event moves the stream version, so the in-memory state is stale and must be rebuilt.
    await appendV1UserMessage(conversationId, 14, 'an old question', 'legacy-key');
    const context = await harness().client.getContext({
      tenantId: TENANT,
      conversationId,
      tokenBudget: 10_000,
    });
    expect(context.model).toBe('model-from-snapshot');
    expect(context.version).toBe(14);
    expect(context.messages.map((message) => message.content)).toEqual([
      'You are a helpful assistant.',
      ...Array.from({ length: 6 }, (_, index) => [
        `question ${index + 1}`,
        `answer ${index + 1}`,
      ]).flat(),
      'an old question',
    ]);
  });

  it('stores a snapshot as the JSON text the writer sent, compressed with lz4 once it is large', async () => {
    // 40 turns: about 8 kB of state, past the size at which PostgreSQL compresses a value.
    const conversationId = await conversationWithTurns(40);
    const { rows } = await harness().database.pool.query<{
      type: string;
      compression: string | null;
      model: string;
    }>(
      `SELECT pg_typeof(state)::text AS type, pg_column_compression(state) AS compression,
              state->>'model' AS model
         FROM snapshots WHERE stream_id = $1`,
      [conversationId],
    );
    expect(rows).toEqual([{ type: 'json', compression: 'lz4', model: 'llama-3-8b' }]);
  });

  it('upcasts v1 UserMessageAppended to v2 with the idempotency key in the body', async () => {
    const conversationId = await conversationWithTurns(1); // versions 1..3
    const eventId = await appendV1UserMessage(conversationId, 4, 'from an old writer', 'legacy-42');

    const { events: stored } = await harness().client.readStream({
      tenantId: TENANT,
      conversationId,
      fromVersion: 4,
      maxCount: 1,
    });
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      eventId,
      type: 'UserMessageAppended',
      schemaVersion: 2,
      version: 4,
    });
    const body = events.ConversationEvent.decode(stored[0]!.payload);
    expect(body.event).toEqual({
      $case: 'userMessageAppended',
      value: {
        turnId: eventId,
        messages: [userMessage('from an old writer')],
        idempotencyKey: 'legacy-42',
      },
    });

    // The decider's idempotency sees the upcast key: a retry of that old turn returns it.
    const retry = await harness().client.appendUserMessage(
      userRequest(TENANT, conversationId, 'from an old writer', { idempotencyKey: 'legacy-42' }),
    );
    expect(retry).toMatchObject({ turnId: eventId, result: { version: 4, duplicate: true } });
    // And the turn can be answered like any other.
    const answered = await harness().client.completeAssistantMessage(
      completeRequest(TENANT, conversationId, eventId, 'a new answer'),
    );
    expect(answered.result?.version).toBe(5);
  });
});
