import { seededRandom } from '../../random.js';
import { aShard } from '../../testing/factories.js';
import { aContext } from '../../testing/context.js';
import { powerOfTwoPicker } from './power-of-two.picker.js';

describe('power-of-two picker', () => {
  const scored = [0.1, 0.2, 0.3, 0.4, 0.9].map((score, i) => ({
    shard: aShard({ id: `s${i}` }),
    score,
  }));

  it('never picks the worst candidate: it always loses its pair', () => {
    const picker = powerOfTwoPicker(seededRandom(7));
    for (let i = 0; i < 500; i++) expect(picker.pick(scored, aContext())?.shard.id).not.toBe('s0');
  });

  it('draws from the top K only when asked', () => {
    const picker = powerOfTwoPicker(seededRandom(7), 2);
    for (let i = 0; i < 200; i++) expect(picker.pick(scored, aContext())?.shard.id).toBe('s4');
  });

  it('is reproducible with the same seed', () => {
    const run = (seed: number): string[] => {
      const picker = powerOfTwoPicker(seededRandom(seed));
      return Array.from({ length: 50 }, () => picker.pick(scored, aContext())!.shard.id);
    };
    expect(run(3)).toEqual(run(3));
  });

  it('returns the only candidate, or none', () => {
    const picker = powerOfTwoPicker(seededRandom(1));
    expect(picker.pick([scored[0]!], aContext())).toBe(scored[0]);
    expect(picker.pick([], aContext())).toBeUndefined();
  });
});
