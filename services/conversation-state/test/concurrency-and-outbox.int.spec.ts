import { waitFor } from '@spillway/testing';
import { harnessForSuite } from './support/harness.js';
import { refusal, startedStream, userEvent, userRequest } from './support/requests.js';

const TENANT = 'tenant-race';

describe('concurrent writers and the outbox', () => {
  const harness = harnessForSuite();

  const newConversation = (): Promise<string> => startedStream(harness().client, TENANT);

  it('lets exactly one of two racing writers win, loses and duplicates nothing (stream and Kafka agree)', async () => {
    const reader = await harness().consume();
    const conversations = await Promise.all(Array.from({ length: 4 }, () => newConversation()));
    const winners = new Map<string, string[]>();
    // 4 conversations x 15 rounds; in each round two writers append at the same expected version.
    for (let round = 0; round < 15; round++) {
      await Promise.all(
        conversations.map(async (conversationId) => {
          const expectedVersion = 1 + (winners.get(conversationId)?.length ?? 0);
          const contenders = ['a', 'b'].map((writer) => `${writer}-${round}`);
          const outcomes = await Promise.allSettled(
            contenders.map((turnId) =>
              harness().client.appendEvents({
                tenantId: TENANT,
                conversationId,
                expectedVersion,
                events: [userEvent(turnId, `from ${turnId}`)],
              }),
            ),
          );
          const won = outcomes.flatMap((outcome, index) =>
            outcome.status === 'fulfilled' ? [contenders[index]!] : [],
          );
          expect(won).toHaveLength(1);
          const lost = outcomes.find((outcome) => outcome.status === 'rejected');
          expect(lost?.status === 'rejected' && (lost.reason as { code: string }).code).toBe(
            'CONVERSATION.VERSION_CONFLICT',
          );
          winners.set(conversationId, [...(winners.get(conversationId) ?? []), won[0]!]);
        }),
      );
    }

    for (const conversationId of conversations) {
      const { events, currentVersion } = await harness().client.readStream({
        tenantId: TENANT,
        conversationId,
        fromVersion: 1,
        maxCount: 0,
      });
      expect(currentVersion).toBe(16);
      expect(events.map((event) => event.version)).toEqual(
        Array.from({ length: 16 }, (_, index) => index + 1),
      );
      expect(events.slice(1).map((event) => event.type)).toEqual(
        Array(15).fill('UserMessageAppended'),
      );
      const context = await harness().client.getConversation({ tenantId: TENANT, conversationId });
      expect(context.conversation?.turns.map((turn) => turn.turnId)).toEqual(
        winners.get(conversationId),
      );
    }

    // Kafka: after de-duplication by ce_id, exactly the stream's events, in stream order per key.
    const streams = new Map<string, string[]>();
    for (const conversationId of conversations) {
      const { events } = await harness().client.readStream({
        tenantId: TENANT,
        conversationId,
        fromVersion: 1,
        maxCount: 0,
      });
      streams.set(
        conversationId,
        events.map((event) => event.eventId),
      );
    }
    const expected = [...streams.values()].reduce((sum, ids) => sum + ids.length, 0);
    await waitFor(
      () =>
        reader.received.filter((delivery) => streams.has(delivery.metadata.key)).length >= expected,
      {
        description: `${expected} raced events on the conversation topic`,
        timeoutMs: 20_000,
      },
    );
    for (const [conversationId, ids] of streams) {
      const onTopic = reader.received.filter(
        (delivery) => delivery.metadata.key === conversationId,
      );
      expect(onTopic.map((delivery) => delivery.metadata.id)).toEqual(ids);
      expect(onTopic.map((delivery) => delivery.event.version)).toEqual(
        ids.map((_, index) => index + 1),
      );
    }
  });

  it('makes a conditional command (expected_version) lose the race with the conflict code', async () => {
    const conversationId = await newConversation();
    const outcomes = await Promise.allSettled(
      ['x', 'y', 'z'].map((turnId) =>
        harness().client.appendUserMessage(
          userRequest(TENANT, conversationId, `hi ${turnId}`, { turnId, expectedVersion: 1 }),
        ),
      ),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected')
        expect((outcome.reason as { code: string }).code).toBe('CONVERSATION.VERSION_CONFLICT');
    }
    const { currentVersion } = await harness().client.readStream({
      tenantId: TENANT,
      conversationId,
      fromVersion: 1,
      maxCount: 0,
    });
    expect(currentVersion).toBe(2);
  });

  it('serialises unconditional commands instead of refusing them', async () => {
    const conversationId = await newConversation();
    await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        harness().client.appendUserMessage(userRequest(TENANT, conversationId, `turn ${index}`)),
      ),
    );
    const { events } = await harness().client.readStream({
      tenantId: TENANT,
      conversationId,
      fromVersion: 1,
      maxCount: 0,
    });
    expect(events.map((event) => event.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('refuses a stale expected version even when it once was right', async () => {
    const conversationId = await newConversation();
    await harness().client.appendEvents({
      tenantId: TENANT,
      conversationId,
      expectedVersion: 1,
      events: [userEvent('t1', 'one')],
    });
    const error = await refusal(
      harness().client.appendEvents({
        tenantId: TENANT,
        conversationId,
        expectedVersion: 1,
        events: [userEvent('t2', 'two')],
      }),
    );
    expect(error.code).toBe('CONVERSATION.VERSION_CONFLICT');
    expect(error.details.grpcStatus).toBe('ABORTED');
  });

  it('publishes every conversation in order under interleaved concurrent traffic', async () => {
    const reader = await harness().consume();
    const conversations = await Promise.all(Array.from({ length: 6 }, () => newConversation()));
    for (let turn = 0; turn < 10; turn++) {
      await Promise.all(
        conversations.map((conversationId) =>
          harness().client.appendUserMessage(userRequest(TENANT, conversationId, `turn ${turn}`)),
        ),
      );
    }
    await waitFor(
      () =>
        conversations.every(
          (id) => reader.received.filter((delivery) => delivery.metadata.key === id).length >= 11,
        ),
      { description: '11 events per conversation on the topic', timeoutMs: 20_000 },
    );
    for (const conversationId of conversations) {
      const versions = reader.received
        .filter((delivery) => delivery.metadata.key === conversationId)
        .map((delivery) => delivery.event.version);
      expect(versions).toEqual(Array.from({ length: 11 }, (_, index) => index + 1));
    }
    const rows = await harness().database.pool.query<{ unpublished: string }>(
      'SELECT count(*) AS unpublished FROM outbox WHERE published_at IS NULL',
    );
    expect(rows.rows[0]?.unpublished).toBe('0');
  });
});
