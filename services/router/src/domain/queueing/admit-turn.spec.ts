import { DEFAULT_LATENCY_MODEL } from '../spill/latency-model.js';
import { aShard } from '../testing/factories.js';
import { admitTurn } from './admit-turn.js';
import { ShardQueue } from './shard-queue.js';

describe('admit turn', () => {
  const capacity = { maxInFlight: 2, kvCapacityTokens: 1 };
  const turn = { turnId: 't1', priority: 'standard' as const, budgetMs: 2_000, prefillMs: 100 };

  it('dispatches at once when the shard has a free slot and nobody waits', () => {
    const outcome = admitTurn(
      aShard({ capacity, load: { inFlight: 1 } }),
      new ShardQueue(4),
      turn,
      0,
      DEFAULT_LATENCY_MODEL,
    );
    expect(outcome).toEqual({ kind: 'dispatch' });
  });

  it('queues behind turns already waiting, with a deadline of budget minus prefill', () => {
    const queue = new ShardQueue(4);
    queue.enqueue(
      { turnId: 'first', priority: 'standard', deadlineMs: 10_000, enqueuedAtMs: 0 },
      0,
      10,
    );

    const patient = { ...turn, budgetMs: 20_000 };

    const outcome = admitTurn(
      aShard({ capacity, load: { inFlight: 1 } }),
      queue,
      patient,
      0,
      DEFAULT_LATENCY_MODEL,
    );

    expect(outcome).toMatchObject({ kind: 'queued', position: 1 });
    expect(queue.turns()[1]).toMatchObject({ turnId: 't1', deadlineMs: 19_900 });
  });

  it('refuses early on a full shard that cannot start it in time', () => {
    const full = aShard({
      capacity,
      load: { inFlight: 2, running: 2, ttftMsP50: 500, itlMsP50: 30 },
    });
    const outcome = admitTurn(
      full,
      new ShardQueue(4),
      { ...turn, budgetMs: 300 },
      0,
      DEFAULT_LATENCY_MODEL,
    );
    expect(outcome).toMatchObject({ kind: 'refused', refusal: { reason: 'deadline-unmeetable' } });
  });
});
