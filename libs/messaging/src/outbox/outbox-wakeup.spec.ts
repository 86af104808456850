import type { Queryable } from '../postgres.js';
import { OutboxWakeup } from './outbox-wakeup.js';

/** A Queryable that records statements and answers when told to. */
function recordingDb() {
  const sent: unknown[][] = [];
  const pending: (() => void)[] = [];
  const db = {
    query: (_sql: string, values: unknown[]) => {
      sent.push(values);
      return new Promise<void>((resolve) => pending.push(resolve));
    },
  } as unknown as Queryable;
  return { db, sent, answerAll: () => pending.splice(0).forEach((resolve) => resolve()) };
}

describe('OutboxWakeup', () => {
  it('sends at most one NOTIFY per interval and none while one is in flight', async () => {
    let now = 0;
    const wakeup = new OutboxWakeup({ schema: 'conversations', minIntervalMs: 10, now: () => now });
    const { db, sent, answerAll } = recordingDb();

    const first = wakeup.afterCommit(db);
    expect(sent).toEqual([['spillway_outbox_conversations', '']]);
    now = 20;
    await wakeup.afterCommit(db); // due by time, but the first is still in flight
    expect(sent).toHaveLength(1);
    answerAll();
    await first;

    now = 25; // the skipped call at 20 sent nothing, so the interval counts from 0
    const second = wakeup.afterCommit(db);
    expect(sent).toHaveLength(2);
    now = 30;
    answerAll();
    await second;
    await wakeup.afterCommit(db); // 5 ms after the second was sent: coalesced
    expect(sent).toHaveLength(2);
  });

  it('lets the next commit retry at once when a hint fails', async () => {
    let now = 0;
    const wakeup = new OutboxWakeup({ minIntervalMs: 1_000, now: () => now });
    let calls = 0;
    const failing = {
      query: async () => {
        calls++;
        throw new Error('connection lost');
      },
    } as unknown as Queryable;
    await expect(wakeup.afterCommit(failing)).resolves.toBeUndefined();
    now = 1;
    await wakeup.afterCommit(failing);
    expect(calls).toBe(2);
  });
});
