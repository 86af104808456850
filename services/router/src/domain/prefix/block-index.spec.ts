import { BlockIndex } from './block-index.js';

function holdersOf(index: BlockIndex, hash: number): number[] {
  const out: number[] = [];
  index.forEachHolder(hash, (holder) => {
    out.push(holder);
    return true;
  });
  return out.sort((a, b) => a - b);
}

describe('block index', () => {
  it('lists the holders of a hash and forgets removed ones', () => {
    const index = new BlockIndex();
    index.add(2 ** 52 + 7, 1);
    index.add(2 ** 52 + 7, 4);
    index.add(0, 4);

    expect(holdersOf(index, 2 ** 52 + 7)).toEqual([1, 4]);
    expect(index.count(0)).toBe(1);

    index.remove(2 ** 52 + 7, 1);
    index.remove(2 ** 52 + 7, 9);

    expect(holdersOf(index, 2 ** 52 + 7)).toEqual([4]);
    expect(index.size).toBe(2);
  });

  it('drops a hash nobody holds any more', () => {
    const index = new BlockIndex();
    index.add(42, 1);
    index.remove(42, 1);
    expect(index.count(42)).toBe(0);
    expect(index.size).toBe(0);
  });

  it('stops visiting when asked to', () => {
    const index = new BlockIndex();
    for (let holder = 0; holder < 10; holder++) index.add(5, holder);
    let visited = 0;
    index.forEachHolder(5, () => ++visited < 3);
    expect(visited).toBe(3);
  });

  it('stays correct through growth and heavy churn, like a stream of load reports', () => {
    const index = new BlockIndex(16);
    const truth = new Map<number, Set<number>>();
    let seed = 1;
    const next = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31);
    for (let step = 0; step < 50_000; step++) {
      const hash = next() % 3_000;
      const holder = next() % 7;
      const holders = truth.get(hash) ?? new Set<number>();
      if (holders.has(holder)) {
        index.remove(hash, holder);
        holders.delete(holder);
      } else {
        index.add(hash, holder);
        holders.add(holder);
      }
      truth.set(hash, holders);
    }
    for (const [hash, holders] of truth)
      expect(holdersOf(index, hash)).toEqual([...holders].sort((a, b) => a - b));
    expect(index.size).toBe([...truth.values()].filter((h) => h.size > 0).length);
  });

  it('walks the holders of a hash through its entry, as forEachHolder does', () => {
    const index = new BlockIndex();
    for (const holder of [5, 2, 9]) index.add(77, holder);
    index.remove(77, 2);

    const entry = index.entry(77);
    const walked: number[] = [];
    for (let node = index.firstNodeAt(entry); node >= 0; node = index.nextNode(node)) {
      walked.push(index.holderOf(node));
    }

    expect(index.holdersAt(entry)).toBe(2);
    expect(walked.sort((a, b) => a - b)).toEqual(holdersOf(index, 77));
    expect(index.entry(78)).toBe(-1);
  });

  it('finds no hash it does not hold, through growth, removals and rehashing', () => {
    const index = new BlockIndex(16);
    for (let hash = 1; hash <= 5_000; hash++) index.add(hash * 7_919, hash % 5);
    for (let hash = 1; hash <= 5_000; hash += 2) index.remove(hash * 7_919, hash % 5);
    for (let hash = 5_001; hash <= 6_000; hash++) index.add(hash * 7_919, 1);

    for (let hash = 1; hash <= 6_000; hash++) {
      const held = hash > 5_000 || hash % 2 === 0;
      expect(index.entry(hash * 7_919) >= 0).toBe(held);
      expect(index.entry(hash * 7_919 + 1)).toBe(-1);
    }
  });
});
