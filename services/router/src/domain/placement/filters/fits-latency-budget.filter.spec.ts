import { aShard } from '../../testing/factories.js';
import { aContext } from '../../testing/context.js';
import { fitsLatencyBudgetFilter } from './fits-latency-budget.filter.js';

describe('fits-latency-budget filter', () => {
  const capacity = { maxInFlight: 2, kvCapacityTokens: 1, prefillTokensPerSecond: 10_000 };

  it('keeps shards where the predicted first token fits the budget', () => {
    const idle = aShard({ id: 'idle', capacity });
    // Both slots busy and four waiting: five slot releases of ~2.2 s each over two slots.
    const swamped = aShard({
      id: 'swamped',
      capacity,
      load: { inFlight: 2, running: 2, waiting: 4, ttftMsP50: 200, itlMsP50: 8 },
    });

    const kept = fitsLatencyBudgetFilter.filter(
      [idle, swamped],
      aContext({ promptTokens: 1_000 }, { budgetMs: 500 }),
    );

    expect(kept.map((s) => s.id)).toEqual(['idle']);
  });

  it('is hard: nothing fits, nothing is kept', () => {
    const slow = aShard({ capacity: { ...capacity, prefillTokensPerSecond: 100 } });
    expect(
      fitsLatencyBudgetFilter.filter([slow], aContext({ promptTokens: 1_000 }, { budgetMs: 500 })),
    ).toEqual([]);
  });
});
