import { BlockSet, onBlockSample } from '../prefix/block-set.js';
import { aShard } from '../testing/factories.js';
import { heldPrefixBlocks, PrefixMatch } from './prefix-match.js';

describe('prefix match', () => {
  const prompt = Array.from({ length: 1_000 }, (_, i) => 10_000 + i);

  it.each([0, 1, 2, 3, 17, 499, 500, 998, 999, 1_000])(
    'finds a held leading run of %i blocks exactly',
    (held) => {
      expect(heldPrefixBlocks(BlockSet.of(prompt.slice(0, held)), prompt)).toBe(held);
    },
  );

  it.each([0, 1, 7, 8, 9, 100, 640, 999, 1_000])(
    'with 1-in-8 sampled sets, finds %i held blocks to the deepest sampled one, never more',
    (held) => {
      const set = BlockSet.of(prompt.slice(0, held), 8);
      let deepestSampled = -1;
      for (let i = 0; i < held; i++) if (onBlockSample(prompt[i]!, 8)) deepestSampled = i;

      expect(heldPrefixBlocks(set, prompt)).toBe(deepestSampled + 1);
    },
  );

  it('probes the deepest block first, then at doubling gaps, always ending at block 0', () => {
    expect(PrefixMatch.probes(20)).toEqual([19, 18, 16, 12, 4, 0]);
    expect(PrefixMatch.probes(1)).toEqual([0]);
    expect(PrefixMatch.probes(0)).toEqual([]);
  });

  it('is exact for a shard looked at before any walk, and keeps that answer', () => {
    const match = new PrefixMatch(prompt);
    const shard = aShard({ id: 'home', blocks: prompt.slice(0, 977) });
    expect(match.blocksOn(shard)).toBe(977);
    match.record('home', 3);
    expect(match.blocksOn(shard)).toBe(977);
  });

  it('after a walk, takes the deepest of the recorded probe and the deferred probes the shard holds', () => {
    const match = new PrefixMatch(prompt);
    match.defer(500);
    match.record('recorded-shallow', 10);
    match.defer(0);

    expect(match.blocksOn(aShard({ id: 'recorded-shallow', blocks: prompt.slice(0, 600) }))).toBe(
      501,
    );
    expect(match.blocksOn(aShard({ id: 'unrecorded', blocks: prompt.slice(0, 5) }))).toBe(1);
    expect(match.blocksOn(aShard({ id: 'cold', blocks: [] }))).toBe(0);
  });

  it('bounds the depth on a shard from above without looking at its blocks, never below it', () => {
    const match = new PrefixMatch(prompt);
    match.defer(500);
    match.record('recorded-deep', 700);
    match.defer(0);
    const shards = [
      aShard({ id: 'recorded-deep', blocks: prompt.slice(0, 800) }),
      aShard({ id: 'holds-deferred', blocks: prompt.slice(0, 600) }),
      aShard({ id: 'holds-first', blocks: prompt.slice(0, 5) }),
      aShard({ id: 'cold', blocks: [] }),
    ];

    expect(shards.map((shard) => match.blocksAtMost(shard))).toEqual([701, 501, 501, 501]);
    for (const shard of shards) {
      expect(match.blocksAtMost(shard)).toBeGreaterThanOrEqual(match.blocksOn(shard));
    }
  });

  it('gives the exact depth as its bound before a walk', () => {
    const match = new PrefixMatch(prompt);
    const shard = aShard({ id: 'home', blocks: prompt.slice(0, 42) });

    expect(match.blocksAtMost(shard)).toBe(42);
  });

  it("records the walk's holders by view, and bounds their depth from both sides", () => {
    const match = new PrefixMatch(prompt);
    const deep = aShard({ id: 'deep', blocks: prompt.slice(0, 800) });
    const shallow = aShard({ id: 'shallow', blocks: prompt.slice(0, 600) });
    match.defer(500);
    match.recordHolder(deep, 700);
    match.recordHolder(deep, 100);
    match.defer(0);

    expect(match.isRecorded('deep')).toBe(true);
    expect(match.isRecorded('shallow')).toBe(false);
    expect([deep, shallow].map((shard) => match.blocksAtLeast(shard))).toEqual([701, 0]);
    expect([deep, shallow].map((shard) => match.blocksOn(shard))).toEqual([701, 501]);
    expect([deep, shallow].map((shard) => match.blocksAtMost(shard))).toEqual([701, 501]);
  });

  it('bounds the depth on every shard but one from above, looking nothing up', () => {
    const home = aShard({ id: 'home', blocks: prompt });
    const deep = aShard({ id: 'deep', blocks: prompt.slice(0, 800) });
    const match = new PrefixMatch(prompt);
    expect(match.blocksAtMostOnAnyBut(home)).toBe(1_000);

    expect(match.blocksOn(home)).toBe(1_000);
    match.defer(500);
    match.recordHolder(deep, 700);
    match.record('by-id', 600);
    match.defer(0);

    expect(match.blocksAtMostOnAnyBut(home)).toBe(701);
    expect(match.blocksAtMostOnAnyBut(deep)).toBe(1_000);
    const others = [
      deep,
      aShard({ id: 'by-id', blocks: prompt.slice(0, 650) }),
      aShard({ id: 'deferred', blocks: prompt.slice(0, 900) }),
      aShard({ id: 'cold' }),
    ];
    for (const shard of others) {
      expect(match.blocksOn(shard)).toBeLessThanOrEqual(match.blocksAtMostOnAnyBut(home));
    }
  });

  it('keeps blocksAtLeast <= blocksOn <= blocksAtMost, with records by id and by view', () => {
    const match = new PrefixMatch(prompt);
    match.defer(900);
    match.recordHolder(aShard({ id: 'unrelated' }), 950);
    match.defer(400);
    match.record('by-id', 600);
    match.defer(0);
    for (const [id, held] of [
      ['by-id', 700],
      ['by-id', 950],
      ['cold', 0],
      ['warm', 450],
      ['full', 1_000],
    ] as const) {
      const shard = aShard({ id, blocks: prompt.slice(0, held) });
      const least = match.blocksAtLeast(shard);
      const exact = match.blocksOn(shard);
      expect(least).toBeLessThanOrEqual(exact);
      expect(exact).toBeLessThanOrEqual(match.blocksAtMost(shard));
    }
  });
});
