import { aDirectory, aRequest, aShard } from '../../testing/factories.js';
import { DEFAULT_PLACEMENT_CONFIG } from '../placement-config.js';
import { DecisionContext } from '../placement-context.js';
import { PrefixMatch } from '../prefix-match.js';
import { predictedTtftScorer } from './predicted-ttft.scorer.js';

const capacity = { maxInFlight: 8, kvCapacityTokens: 1_000_000, prefillTokensPerSecond: 10_000 };

function contextFor(budgetMs: number, promptTokens: number): DecisionContext {
  const request = aRequest({ promptTokens });
  return new DecisionContext(
    request,
    0,
    budgetMs,
    new PrefixMatch(request.promptBlocks),
    DEFAULT_PLACEMENT_CONFIG.latency,
    { queuedAhead: () => 0 },
  );
}

describe('predicted-ttft scorer', () => {
  it('scores the budget share left: its own prefill on an idle shard, plus the backlog on a busy one', () => {
    const idle = aShard({ id: 'idle', capacity });
    const busy = aShard({ id: 'busy', capacity, load: { inFlight: 2, prefillBacklogMs: 1_000 } });
    aDirectory(idle, busy);
    const context = contextFor(2_000, 2_000);
    // 2,000 tokens at 10,000 a second: 200 ms of a 2 s budget.
    expect(predictedTtftScorer.score(idle, context)).toBeCloseTo(0.9, 9);
    expect(predictedTtftScorer.score(busy, context)).toBeCloseTo(0.4, 9);
  });

  it('is 0 (after clamping) for a shard already past the budget', () => {
    const swamped = aShard({ capacity, load: { inFlight: 2, prefillBacklogMs: 5_000 } });
    expect(predictedTtftScorer.score(swamped, contextFor(2_000, 100))).toBeLessThan(0);
  });

  it("bounds its score from above without looking the shard's cache up", () => {
    const prompt = Array.from({ length: 64 }, (_, i) => 900 + i);
    const request = aRequest({ promptBlocks: prompt, promptTokens: 64 * 16 });
    const match = new PrefixMatch(prompt);
    match.defer(40);
    match.defer(0);
    const context = new DecisionContext(
      request,
      0,
      2_000,
      match,
      DEFAULT_PLACEMENT_CONFIG.latency,
      { queuedAhead: () => 1 },
    );
    for (const held of [0, 1, 30, 41, 64]) {
      const shard = aShard({
        id: `held-${held}`,
        capacity,
        blocks: prompt.slice(0, held),
        load: { inFlight: 8, running: 8, ttftMsP50: 300, itlMsP50: 10 },
      });
      expect(predictedTtftScorer.bound!(shard, context)).toBeGreaterThanOrEqual(
        predictedTtftScorer.score(shard, context),
      );
    }
  });
});
