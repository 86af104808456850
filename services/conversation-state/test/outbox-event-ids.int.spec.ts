import { harnessForSuite } from './support/harness.js';
import { refusal, startedStream, userEvent } from './support/requests.js';

const TENANT = 'tenant-outbox-event-ids';

describe('the outbox without an index of its own on event_id', () => {
  const harness = harnessForSuite();

  it('lets an event id reach the outbox only once, though only the events table checks it', async () => {
    const first = await startedStream(harness().client, TENANT);
    const second = await startedStream(harness().client, TENANT);
    const event = userEvent('t1', 'hello');
    await harness().client.appendEvents({
      tenantId: TENANT,
      conversationId: first,
      expectedVersion: 1,
      events: [event],
    });

    const error = await refusal(
      harness().client.appendEvents({
        tenantId: TENANT,
        conversationId: second,
        expectedVersion: 1,
        events: [{ ...userEvent('t1', 'hello'), eventId: event.eventId }],
      }),
    );

    expect(error.code).toBe('REQUEST.INVALID');
    expect(error.message).toContain(event.eventId);
    const { rows } = await harness().database.pool.query<{ key: string }>(
      'SELECT key FROM outbox WHERE event_id = $1',
      [event.eventId],
    );
    expect(rows).toEqual([{ key: first }]);
  });
});
