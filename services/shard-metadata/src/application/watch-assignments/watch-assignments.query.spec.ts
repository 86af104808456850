import { anAssignment } from '../../domain/test.factories.js';
import { FakeAssignmentRepository, FakeClock } from '../../../test/support/fakes.js';
import { InMemoryChangeFeed } from '../change-feed/in-memory-change-feed.js';
import type { Assignment } from '../../domain/assignment.js';
import { AssignmentMap } from '../assignments/assignment-map.js';
import { type AssignmentWatchMessage, WatchAssignmentsQuery } from './watch-assignments.query.js';

describe('WatchAssignmentsQuery', () => {
  it('sends the snapshot in chunks, the last marked complete, then committed changes', async () => {
    const stored = Array.from({ length: 5 }, () => anAssignment());
    const map = new AssignmentMap(
      new FakeAssignmentRepository(stored),
      new FakeClock(),
      new InMemoryChangeFeed<Assignment>(),
    );
    await map.load();
    const controller = new AbortController();
    const messages = new WatchAssignmentsQuery(map, {
      snapshotChunkSize: 2,
      maxBuffered: 10,
    }).execute(controller.signal);
    const received: AssignmentWatchMessage[] = [];
    for await (const message of messages) {
      received.push(message);
      if (message.kind === 'snapshot' && message.complete) {
        await map.compareAndSet({
          conversationId: 'new-conv',
          tenantId: 't',
          shardId: 'shard-1',
          expectedVersion: 0,
          reason: 'placed',
        });
      }
      if (message.kind === 'upserted') controller.abort();
    }
    expect(
      received.map((m) =>
        m.kind === 'snapshot'
          ? [m.kind, m.assignments.length, m.complete]
          : [m.kind, m.assignment.conversationId],
      ),
    ).toEqual([
      ['snapshot', 2, false],
      ['snapshot', 2, false],
      ['snapshot', 1, true],
      ['upserted', 'new-conv'],
    ]);
  });

  it('sends one empty complete snapshot for an empty map', async () => {
    const map = new AssignmentMap(
      new FakeAssignmentRepository(),
      new FakeClock(),
      new InMemoryChangeFeed<Assignment>(),
    );
    const controller = new AbortController();
    const iterator = new WatchAssignmentsQuery(map, {
      snapshotChunkSize: 2,
      maxBuffered: 10,
    }).execute(controller.signal);
    expect((await iterator.next()).value).toEqual({
      kind: 'snapshot',
      assignments: [],
      complete: true,
    });
    controller.abort();
    expect((await iterator.next()).done).toBe(true);
  });
});
