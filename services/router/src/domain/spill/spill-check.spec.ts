import { aShard } from '../testing/factories.js';
import { DEFAULT_LATENCY_MODEL } from './latency-model.js';
import { checkSpill } from './spill-check.js';

describe('spill check', () => {
  const config = {
    ...DEFAULT_LATENCY_MODEL,
    expectedOutputTokens: 100,
    defaultPrefillTokensPerSecond: 10_000,
  };
  const capacity = { maxInFlight: 2, kvCapacityTokens: 1 };
  const warmTurn = { promptTokens: 4_000, cachedBlocks: 240, queuedAhead: 0 };

  it('keeps a turn on a warm shard that will serve it within budget', () => {
    const check = checkSpill(aShard({ capacity, load: { inFlight: 1 } }), warmTurn, 1_000, config);
    expect(check.breaksBudget).toBe(false);
    expect(check.predicted.prefillMs).toBeCloseTo(16, 5);
  });

  it('flags a turn whose wait for the prefills ahead alone breaks the budget', () => {
    const busy = aShard({
      capacity,
      load: { inFlight: 1, running: 1, ttftMsP50: 400, itlMsP50: 10, prefillBacklogMs: 1_500 },
    });
    const check = checkSpill(busy, warmTurn, 1_000, config);
    expect(check.breaksBudget).toBe(true);
    expect(check.predicted.queueWaitMs).toBeGreaterThan(1_000);
  });

  it('flags a cold prefill that breaks the budget even on an idle shard', () => {
    const check = checkSpill(
      aShard({ capacity }),
      { ...warmTurn, cachedBlocks: 0, promptTokens: 20_000 },
      1_000,
      config,
    );
    expect(check).toMatchObject({ breaksBudget: true, budgetMs: 1_000 });
  });
});
