import { ShardQueues } from './shard-queues.js';

describe('shard queues', () => {
  it('keeps one bounded queue per shard and reports its depth to placement', () => {
    const queues = new ShardQueues(2);
    queues
      .of('a')
      .enqueue({ turnId: 't1', priority: 'high', deadlineMs: 60_000, enqueuedAtMs: 0 }, 0, 10);
    queues
      .of('a')
      .enqueue({ turnId: 't2', priority: 'low', deadlineMs: 60_000, enqueuedAtMs: 0 }, 0, 10);

    expect(queues.of('a').capacity).toBe(2);
    expect(queues.queuedAhead('a', 'standard')).toBe(1);
    expect(queues.queuedAhead('b', 'standard')).toBe(0);
  });

  it('hands back the queued turns of a shard that left, for placement elsewhere', () => {
    const queues = new ShardQueues(4);
    queues
      .of('a')
      .enqueue({ turnId: 't1', priority: 'standard', deadlineMs: 60_000, enqueuedAtMs: 0 }, 0, 10);

    expect(queues.drop('a').map((turn) => turn.turnId)).toEqual(['t1']);
    expect(queues.queuedAhead('a', 'batch')).toBe(0);
  });
});
