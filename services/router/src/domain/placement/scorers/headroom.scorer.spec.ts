import { aShard } from '../../testing/factories.js';
import { aContext } from '../../testing/context.js';
import { headroomScorer } from './headroom.scorer.js';

describe('headroom scorer', () => {
  const capacity = { maxInFlight: 8, kvCapacityTokens: 1 };

  it('is the fraction of stream slots still free', () => {
    expect(headroomScorer.score(aShard({ capacity, load: { inFlight: 2 } }), aContext())).toBe(
      6 / 8,
    );
  });

  it('counts engine-queued turns as holding slots, and never goes below 0', () => {
    expect(
      headroomScorer.score(aShard({ capacity, load: { running: 4, waiting: 2 } }), aContext()),
    ).toBe(2 / 8);
    expect(headroomScorer.score(aShard({ capacity, load: { inFlight: 20 } }), aContext())).toBe(0);
  });
});
