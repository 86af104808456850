import { aShard } from '../../testing/factories.js';
import { aContext } from '../../testing/context.js';
import { poolFilter } from './pool.filter.js';

describe('pool filter', () => {
  const shards = [
    aShard({ id: 'stable-1', pool: 'llama-v1' }),
    aShard({ id: 'canary-1', pool: 'llama-v2' }),
    aShard({ id: 'other-1', pool: 'mistral-v1' }),
  ];

  it('keeps shards of the pools the model routes to', () => {
    const kept = poolFilter.filter(shards, aContext({ pools: ['llama-v1', 'llama-v2'] }));
    expect(kept.map((s) => s.id)).toEqual(['stable-1', 'canary-1']);
  });

  it('keeps every shard when the request names no pool', () => {
    expect(poolFilter.filter(shards, aContext({ pools: [] }))).toHaveLength(3);
  });
});
