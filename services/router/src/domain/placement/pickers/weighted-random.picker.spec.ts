import { seededRandom } from '../../random.js';
import { aShard } from '../../testing/factories.js';
import { aContext } from '../../testing/context.js';
import { weightedRandomPicker } from './weighted-random.picker.js';

describe('weighted-random picker', () => {
  it('picks in proportion to score and never a zero score', () => {
    const scored = [
      { shard: aShard({ id: 'heavy' }), score: 0.75 },
      { shard: aShard({ id: 'light' }), score: 0.25 },
      { shard: aShard({ id: 'zero' }), score: 0 },
    ];
    const picker = weightedRandomPicker(seededRandom(11));
    const counts: Record<string, number> = { heavy: 0, light: 0, zero: 0 };
    for (let i = 0; i < 4_000; i++) counts[picker.pick(scored, aContext())!.shard.id]! += 1;

    expect(counts.zero).toBe(0);
    expect(counts.heavy! / 4_000).toBeGreaterThan(0.7);
    expect(counts.heavy! / 4_000).toBeLessThan(0.8);
  });

  it('picks uniformly when every score is 0', () => {
    const scored = ['a', 'b'].map((id) => ({ shard: aShard({ id }), score: 0 }));
    const picker = weightedRandomPicker(seededRandom(5));
    const picked = new Set(
      Array.from({ length: 50 }, () => picker.pick(scored, aContext())!.shard.id),
    );
    expect(picked).toEqual(new Set(['a', 'b']));
  });
});
