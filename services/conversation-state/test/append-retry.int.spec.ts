import { randomUUID } from 'node:crypto';
import { harnessForSuite } from './support/harness.js';
import { refusal, startedEvent, userEvent, startedStream } from './support/requests.js';

const TENANT = 'tenant-retry';

describe('retrying an append whose answer was lost', () => {
  const harness = harnessForSuite();

  it('returns the original result for exactly the same append, even after the stream moved on', async () => {
    const conversationId = randomUUID();
    const first = [startedEvent(), userEvent('t1', 'hello')];
    const created = await harness().client.appendEvents({
      tenantId: TENANT,
      conversationId,
      expectedVersion: 0,
      events: first,
    });
    const second = [userEvent('t2', 'again')];
    const appended = await harness().client.appendEvents({
      tenantId: TENANT,
      conversationId,
      expectedVersion: 2,
      events: second,
    });
    const retried = await harness().client.appendEvents({
      tenantId: TENANT,
      conversationId,
      expectedVersion: 2,
      events: second,
    });
    expect(retried).toEqual({ ...appended, duplicate: true });
    const retriedCreate = await harness().client.appendEvents({
      tenantId: TENANT,
      conversationId,
      expectedVersion: 0,
      events: first,
    });
    expect(retriedCreate).toEqual({ ...created, duplicate: true });
  });

  it('refuses an event id already stored with other content, naming the id', async () => {
    const conversationId = await startedStream(harness().client, TENANT);
    const original = userEvent('t1', 'hello');
    await harness().client.appendEvents({
      tenantId: TENANT,
      conversationId,
      expectedVersion: 1,
      events: [original],
    });
    const altered = { ...userEvent('t1', 'something else'), eventId: original.eventId };
    const error = await refusal(
      harness().client.appendEvents({
        tenantId: TENANT,
        conversationId,
        expectedVersion: 1,
        events: [altered],
      }),
    );
    expect(error.code).toBe('REQUEST.INVALID');
    expect(error.message).toContain(original.eventId);
    expect(error.details.field).toBe('events[0].event_id');
  });

  it('refuses the same events resent at another expected version, naming the id', async () => {
    const conversationId = randomUUID();
    const created = [startedEvent()];
    await harness().client.appendEvents({
      tenantId: TENANT,
      conversationId,
      expectedVersion: 0,
      events: created,
    });
    const turn = [userEvent('t1', 'hello')];
    await harness().client.appendEvents({
      tenantId: TENANT,
      conversationId,
      expectedVersion: 1,
      events: turn,
    });
    const error = await refusal(
      harness().client.appendEvents({
        tenantId: TENANT,
        conversationId,
        expectedVersion: 2,
        events: turn,
      }),
    );
    expect(error.code).toBe('REQUEST.INVALID');
    expect(error.message).toContain(turn[0]!.eventId);
  });

  it('refuses an event id of another conversation without naming that conversation', async () => {
    const first = randomUUID();
    const started = startedEvent();
    await harness().client.appendEvents({
      tenantId: TENANT,
      conversationId: first,
      expectedVersion: 0,
      events: [started],
    });
    const error = await refusal(
      harness().client.appendEvents({
        tenantId: TENANT,
        conversationId: randomUUID(),
        expectedVersion: 0,
        events: [started],
      }),
    );
    expect(error.code).toBe('REQUEST.INVALID');
    expect(error.message).toContain(started.eventId);
    expect(error.message).not.toContain(first);
    // The outbox has no index of its own on event_id (migration 1767312000000): the events table's
    // is what keeps the id from being published twice.
    const { rows } = await harness().database.pool.query<{ key: string }>(
      'SELECT key FROM outbox WHERE event_id = $1',
      [started.eventId],
    );
    expect(rows).toEqual([{ key: first }]);
  });
});
