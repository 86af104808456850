import { aShard } from '../../testing/factories.js';
import { aContext } from '../../testing/context.js';
import { leastLoadScorer } from './least-load.scorer.js';

describe('least-load scorer', () => {
  const capacity = { maxInFlight: 10, kvCapacityTokens: 1 };

  it('is 1 for an idle shard and 0 for one full on queue, batch and KV', () => {
    expect(leastLoadScorer.score(aShard({ capacity }), aContext())).toBe(1);
    const full = aShard({ capacity, load: { waiting: 10, running: 10, kvCacheUsage: 1 } });
    expect(leastLoadScorer.score(full, aContext())).toBe(0);
  });

  it('ranks a shard with a queue below one that only runs', () => {
    const queued = aShard({ capacity, load: { running: 10, waiting: 5, kvCacheUsage: 0.5 } });
    const running = aShard({ capacity, load: { running: 10, waiting: 0, kvCacheUsage: 0.5 } });
    expect(leastLoadScorer.score(queued, aContext())).toBeLessThan(
      leastLoadScorer.score(running, aContext()),
    );
  });

  it('stays in [0, 1] when the engine queue exceeds the stream bound', () => {
    const score = leastLoadScorer.score(aShard({ capacity, load: { waiting: 500 } }), aContext());
    expect(score).toBeGreaterThanOrEqual(0);
    expect(score).toBeLessThanOrEqual(1);
  });
});
