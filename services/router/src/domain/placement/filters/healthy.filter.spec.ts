import { aShard } from '../../testing/factories.js';
import { aContext } from '../../testing/context.js';
import { healthyFilter } from './healthy.filter.js';

describe('healthy filter', () => {
  it('keeps only READY shards: never failed, draining, starting or removed ones', () => {
    const shards = [
      aShard({ id: 'ready', state: 'ready' }),
      aShard({ id: 'failed', state: 'failed' }),
      aShard({ id: 'draining', state: 'draining' }),
      aShard({ id: 'starting', state: 'starting' }),
      aShard({ id: 'removed', state: 'removed' }),
    ];

    const kept = healthyFilter.filter(shards, aContext());

    expect(kept.map((s) => s.id)).toEqual(['ready']);
  });

  it('returns nothing when no shard is ready', () => {
    expect(healthyFilter.filter([aShard({ state: 'failed' })], aContext())).toEqual([]);
  });
});
