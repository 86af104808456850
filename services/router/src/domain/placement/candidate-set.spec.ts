import { aShard } from '../testing/factories.js';
import { CandidateSet } from './candidate-set.js';

describe('candidate set', () => {
  const a = aShard({ id: 'a' });
  const b = aShard({ id: 'b' });

  it('keeps each slot once, in the order added', () => {
    const set = new CandidateSet();

    expect(set.add(3, a)).toBe(true);
    expect(set.add(1_000, b)).toBe(true);
    expect(set.add(3, a)).toBe(false);

    expect(set.shards.map((s) => s.id)).toEqual(['a', 'b']);
    expect(set.has(3)).toBe(true);
    expect(set.has(4)).toBe(false);
  });

  it('never adds an excluded slot', () => {
    const set = new CandidateSet();
    set.exclude(7);

    expect(set.add(7, a)).toBe(false);
    expect(set.shards).toEqual([]);
  });

  it('starts empty again after clear, exclusions included, reusing its list', () => {
    const set = new CandidateSet();
    const list = set.shards;
    set.add(1, a);
    set.exclude(2);

    set.clear();

    expect(set.shards).toBe(list);
    expect(set.shards).toEqual([]);
    expect(set.has(1)).toBe(false);
    expect(set.add(2, b)).toBe(true);
  });
});
