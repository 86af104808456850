import { aShard } from '../../testing/factories.js';
import { aContext } from '../../testing/context.js';
import { affinityScorer } from './affinity.scorer.js';

describe('affinity scorer', () => {
  it('scores 1 for the shard the conversation is pinned to and 0 for the others', () => {
    const context = aContext({ assignedShardId: 'home' });
    expect(affinityScorer.score(aShard({ id: 'home' }), context)).toBe(1);
    expect(affinityScorer.score(aShard({ id: 'away' }), context)).toBe(0);
  });

  it('scores 0 everywhere for a conversation without a shard', () => {
    expect(affinityScorer.score(aShard({ id: 'home' }), aContext())).toBe(0);
  });
});
