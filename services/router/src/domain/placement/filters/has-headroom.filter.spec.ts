import { aShard } from '../../testing/factories.js';
import { aContext } from '../../testing/context.js';
import { hasHeadroomFilter } from './has-headroom.filter.js';

describe('has-headroom filter', () => {
  it('keeps shards whose in-flight streams are below their bound', () => {
    const shards = [
      aShard({
        id: 'full',
        capacity: { maxInFlight: 4, kvCapacityTokens: 1 },
        load: { inFlight: 4 },
      }),
      aShard({
        id: 'free',
        capacity: { maxInFlight: 4, kvCapacityTokens: 1 },
        load: { inFlight: 3 },
      }),
    ];
    expect(hasHeadroomFilter.filter(shards, aContext()).map((s) => s.id)).toEqual(['free']);
  });

  it('keeps all of them when none has a free slot, so the shard queues can answer', () => {
    const shards = [
      aShard({ id: 'a', capacity: { maxInFlight: 2, kvCapacityTokens: 1 }, load: { inFlight: 2 } }),
      aShard({ id: 'b', capacity: { maxInFlight: 2, kvCapacityTokens: 1 }, load: { inFlight: 5 } }),
    ];
    expect(hasHeadroomFilter.filter(shards, aContext()).map((s) => s.id)).toEqual(['a', 'b']);
  });
});
