import type { PriorityTier } from '../placement/placement-request.js';
import { ShardQueue, type QueuedTurn } from './shard-queue.js';

const NOW = 10_000;
// Ten turns start per second: a turn at position p (p ahead) starts after (p + 1) × 100 ms.
const RATE = 10;

function aTurn(
  turnId: string,
  priority: PriorityTier = 'standard',
  deadlineInMs = 60_000,
): QueuedTurn {
  return { turnId, priority, deadlineMs: NOW + deadlineInMs, enqueuedAtMs: NOW };
}

function ids(queue: ShardQueue): string[] {
  return queue.turns().map((turn) => turn.turnId);
}

describe('shard queue', () => {
  describe('ordering', () => {
    it('serves higher priority first, then the earliest deadline, then arrival', () => {
      const queue = new ShardQueue(10);
      queue.enqueue(aTurn('low', 'low'), NOW, RATE);
      queue.enqueue(aTurn('std-late', 'standard', 9_000), NOW, RATE);
      queue.enqueue(aTurn('std-soon', 'standard', 3_000), NOW, RATE);
      queue.enqueue(aTurn('critical', 'critical'), NOW, RATE);
      queue.enqueue(aTurn('std-late-2', 'standard', 9_000), NOW, RATE);

      expect(ids(queue)).toEqual(['critical', 'std-soon', 'std-late', 'std-late-2', 'low']);
      expect(queue.dequeue()?.turnId).toBe('critical');
      expect(queue.peek()?.turnId).toBe('std-soon');
    });

    it('says where a turn stands and when it should start', () => {
      const queue = new ShardQueue(10);
      queue.enqueue(aTurn('a'), NOW, RATE);
      expect(queue.enqueue(aTurn('b'), NOW, RATE)).toEqual({
        kind: 'queued',
        position: 1,
        predictedStartMs: NOW + 200,
        shed: [],
      });
    });

    it('counts the turns ahead of a new turn of a given priority', () => {
      const queue = new ShardQueue(10);
      queue.enqueue(aTurn('h', 'high'), NOW, RATE);
      queue.enqueue(aTurn('s', 'standard'), NOW, RATE);
      queue.enqueue(aTurn('b', 'batch'), NOW, RATE);
      expect(queue.queuedAhead('high')).toBe(1);
      expect(queue.queuedAhead('standard')).toBe(2);
      expect(queue.queuedAhead('batch')).toBe(3);
    });

    it('lets a cancelled turn leave', () => {
      const queue = new ShardQueue(10);
      queue.enqueue(aTurn('a'), NOW, RATE);
      expect(queue.remove('a')).toBe(true);
      expect(queue.remove('a')).toBe(false);
      expect(queue.size).toBe(0);
    });
  });

  describe('early refusal', () => {
    it('refuses at once a turn that would start after its deadline, with a retry hint from the drain rate', () => {
      const queue = new ShardQueue(100);
      for (let i = 0; i < 20; i++) queue.enqueue(aTurn(`t${i}`, 'high'), NOW, RATE);

      // 20 ahead: it would start after 2.1 s but must start within 500 ms.
      const outcome = queue.enqueue(aTurn('hurried', 'standard', 500), NOW, RATE);

      expect(outcome).toMatchObject({
        kind: 'refused',
        refusal: { reason: 'deadline-unmeetable' },
      });
      if (outcome.kind !== 'refused') throw new Error('expected a refusal');
      // When 16 of the 21 slots it needed have gone, a fresh 500 ms budget fits: 1.6 s.
      expect(outcome.refusal.retryAfterMs).toBe(1_600);
      expect(outcome.refusal.retryAfterSeconds).toBe(2);
      expect(queue.size).toBe(20);
    });

    it('refuses when full of turns of its priority or higher, hinting when they will have started', () => {
      const queue = new ShardQueue(3);
      for (const id of ['a', 'b', 'c']) queue.enqueue(aTurn(id, 'high'), NOW, RATE);

      const outcome = queue.enqueue(aTurn('late', 'standard'), NOW, RATE);

      expect(outcome).toMatchObject({
        kind: 'refused',
        refusal: { reason: 'queue-full', retryAfterMs: 400, retryAfterSeconds: 1 },
      });
    });

    it('refuses everything while the shard does not drain at all', () => {
      const outcome = new ShardQueue(3).enqueue(aTurn('a'), NOW, 0);
      expect(outcome).toMatchObject({
        kind: 'refused',
        refusal: { reason: 'deadline-unmeetable' },
      });
    });
  });

  describe('eviction', () => {
    it('evicts the lowest priority when a higher one arrives at a full queue, and refuses it with a hint', () => {
      const queue = new ShardQueue(3);
      queue.enqueue(aTurn('std-1'), NOW, RATE);
      queue.enqueue(aTurn('batch', 'batch'), NOW, RATE);
      queue.enqueue(aTurn('std-2'), NOW, RATE);

      const outcome = queue.enqueue(aTurn('critical', 'critical'), NOW, RATE);

      expect(outcome).toMatchObject({ kind: 'queued', position: 0 });
      if (outcome.kind !== 'queued') throw new Error('expected the turn queued');
      expect(outcome.shed).toEqual([
        expect.objectContaining({
          reason: 'evicted',
          turn: expect.objectContaining({ turnId: 'batch' }),
          retryAfterMs: 400,
        }),
      ]);
      expect(ids(queue)).toEqual(['critical', 'std-1', 'std-2']);
    });

    it('sheds turns pushed past their deadline by a higher-priority arrival, never leaving them to time out', () => {
      const queue = new ShardQueue(10);
      queue.enqueue(aTurn('tight', 'standard', 250), NOW, RATE); // starts at +100 ms
      queue.enqueue(aTurn('loose', 'standard', 5_000), NOW, RATE);

      const outcome = queue.enqueue(aTurn('vip-1', 'critical'), NOW, RATE);
      const second = queue.enqueue(aTurn('vip-2', 'critical'), NOW, RATE);

      expect(outcome).toMatchObject({ kind: 'queued', shed: [] });
      // 'tight' now has two ahead: it would start at +300 ms, past its 250 ms deadline.
      expect(second).toMatchObject({
        kind: 'queued',
        shed: [
          expect.objectContaining({
            reason: 'deadline-pushed',
            turn: expect.objectContaining({ turnId: 'tight' }),
          }),
        ],
      });
      expect(ids(queue)).toEqual(['vip-1', 'vip-2', 'loose']);
    });

    it('sheds what a slower drain makes late', () => {
      const queue = new ShardQueue(10);
      queue.enqueue(aTurn('a', 'standard', 1_000), NOW, RATE);
      queue.enqueue(aTurn('b', 'standard', 1_000), NOW, RATE);

      const shed = queue.shedUnmeetable(NOW, 1.5);

      expect(shed.map((r) => r.turn.turnId)).toEqual(['b']);
      expect(shed[0]!.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(ids(queue)).toEqual(['a']);
    });
  });
});
