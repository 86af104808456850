import { aShard } from '../../testing/factories.js';
import { aContext } from '../../testing/context.js';
import { zoneScorer } from './zone.scorer.js';

describe('zone scorer', () => {
  it('scores 1 in the caller zone and 0 elsewhere', () => {
    const context = aContext({ zone: 'east' });
    expect(zoneScorer.score(aShard({ zone: 'east' }), context)).toBe(1);
    expect(zoneScorer.score(aShard({ zone: 'west' }), context)).toBe(0);
  });

  it('scores 0 when the caller states no zone', () => {
    expect(zoneScorer.score(aShard({ zone: 'east' }), aContext({ zone: undefined }))).toBe(0);
  });
});
