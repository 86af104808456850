import { BlockSet } from '../prefix/block-set.js';
import { seededRandom } from '../random.js';
import { aDirectory, aShard } from '../testing/factories.js';
import { CandidateSet } from './candidate-set.js';
import { PrefixMatch } from './prefix-match.js';
import { ShardDirectory } from './shard-directory.js';
import { withLoad } from './shard-view.js';

function holders(
  directory: ReturnType<typeof aDirectory>,
  blocks: number[],
  limit = 8,
  pools: string[] = [],
) {
  const match = new PrefixMatch(blocks);
  const found = new CandidateSet();
  directory.walkPrefixHolders(match, new Set(pools), limit, seededRandom(1), found);
  return { found: found.shards.map((s) => s.id), match };
}

describe('shard directory', () => {
  it('finds the shards holding a prompt prefix, each with its match depth', () => {
    const directory = aDirectory(
      aShard({ id: 'deep', blocks: [1, 2, 3, 4] }),
      aShard({ id: 'shallow', blocks: [1, 2] }),
      aShard({ id: 'cold', blocks: [] }),
    );

    const { found, match } = holders(directory, [1, 2, 3, 4, 5]);

    expect(found).toEqual(['deep', 'shallow']);
    expect(match.blocksOn(directory.get('deep')!)).toBe(4);
    expect(match.blocksOn(directory.get('shallow')!)).toBe(2);
    expect(match.blocksOn(directory.get('cold')!)).toBe(0);
  });

  it('takes the deepest holders first as candidates, up to the limit', () => {
    const directory = aDirectory(
      ...Array.from({ length: 20 }, (_, i) => aShard({ id: `shared-${i}`, blocks: [1] })),
      aShard({ id: 'deep', blocks: [1, 2, 3] }),
    );

    const { found, match } = holders(directory, [1, 2, 3], 3);

    expect(found).toHaveLength(3);
    expect(found[0]).toBe('deep');
    expect(match.blocksOn(directory.get('shared-19')!)).toBe(1);
  });

  it('defers a block nearly every shard holds to one lookup per shard asked about', () => {
    const directory = aDirectory(
      ...Array.from({ length: 100 }, (_, i) => aShard({ id: `shared-${i}`, blocks: [1, 2] })),
      aShard({ id: 'cold', blocks: [] }),
    );

    const { found, match } = holders(directory, [1, 2, 3], 4);

    expect(found).toHaveLength(4);
    expect(match.isRecorded('shared-0')).toBe(false);
    expect(match.blocksOn(directory.get('shared-0')!)).toBe(2);
    expect(match.blocksOn(directory.get('cold')!)).toBe(0);
  });

  it('knows depths at probe granularity: never more than a shard holds', () => {
    const prompt = Array.from({ length: 100 }, (_, i) => 1_000 + i);
    const directory = aDirectory(aShard({ id: 'a', blocks: prompt.slice(0, 90) }));

    const { match } = holders(directory, prompt);

    // Probes at 99, 98, 96, 92, 84, ...: 84 is the first held, so at least 85 blocks.
    expect(match.blocksOn(directory.get('a')!)).toBe(85);
  });

  it('keeps its block index current as load reports replace a shard recent blocks', () => {
    const first = aShard({ id: 'a', blocks: [1, 2, 3] });
    const directory = aDirectory(first);

    directory.upsert(withLoad(first, first.load, BlockSet.of([9, 10])));

    expect(holders(directory, [1, 2, 3]).found).toEqual([]);
    expect(holders(directory, [9, 10]).found).toEqual(['a']);
  });

  it('applies a load report, re-indexing recent blocks only when the list changed', () => {
    const directory = aDirectory(aShard({ id: 'a', blocks: [1, 2] }));
    const before = directory.get('a')!.recentPrefixBlocks;

    directory.reportLoad('a', { ...directory.get('a')!.load, running: 3 }, [2, 1].reverse());
    expect(directory.get('a')!.recentPrefixBlocks).toBe(before);
    expect(directory.get('a')!.load.running).toBe(3);

    directory.reportLoad('a', directory.get('a')!.load, [7, 2, 1]);
    expect(holders(directory, [7]).found).toEqual(['a']);
    expect(directory.reportLoad('unknown', directory.get('a')!.load, [])).toBe(false);
  });

  it('samples recent blocks when configured to, and still finds the holders of a prompt', () => {
    const prompt = Array.from({ length: 400 }, (_, i) => 77_000 + i);
    const directory = new ShardDirectory({ sampleEvery: 8 });
    directory.upsert(aShard({ id: 'warm' }));
    directory.upsert(aShard({ id: 'cold' }));
    directory.reportLoad('warm', directory.get('warm')!.load, prompt.slice(0, 300));

    const { found, match } = holders(directory, prompt);

    expect(found).toEqual(['warm']);
    const depth = match.blocksOn(directory.get('warm')!);
    expect(depth).toBeLessThanOrEqual(300);
    expect(depth).toBeGreaterThan(300 - 64);
    expect(directory.get('warm')!.recentPrefixBlocks.size).toBeLessThan(80);
  });

  it('refuses a shard view sampled differently from the directory', () => {
    const directory = new ShardDirectory({ sampleEvery: 8 });
    expect(() => directory.upsert(aShard({ blocks: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] }))).toThrow(
      RangeError,
    );
  });

  it('knows the fastest prefill of its shards, one stating none at the default rate', () => {
    const rated = (id: string, prefillTokensPerSecond?: number) =>
      aShard({
        id,
        capacity: {
          maxInFlight: 8,
          kvCapacityTokens: 1_000_000,
          ...(prefillTokensPerSecond === undefined ? {} : { prefillTokensPerSecond }),
        },
      });
    const directory = aDirectory(rated('slow', 5_000), rated('fast', 12_000));
    expect(new ShardDirectory().fastestPrefillTokensPerSecond(10_000)).toBe(0);
    expect(directory.fastestPrefillTokensPerSecond(10_000)).toBe(12_000);

    directory.upsert(rated('unstated'));
    expect(directory.fastestPrefillTokensPerSecond(10_000)).toBe(12_000);
    expect(directory.fastestPrefillTokensPerSecond(20_000)).toBe(20_000);

    directory.remove('unstated');
    directory.upsert(rated('fast', 4_000));
    expect(directory.fastestPrefillTokensPerSecond(20_000)).toBe(5_000);
    directory.remove('slow');
    expect(directory.fastestPrefillTokensPerSecond(20_000)).toBe(4_000);
  });

  it('forgets a removed shard', () => {
    const directory = aDirectory(
      aShard({ id: 'a', blocks: [1] }),
      aShard({ id: 'b', blocks: [1] }),
    );
    directory.remove('a');
    expect(directory.get('a')).toBeUndefined();
    expect(holders(directory, [1]).found).toEqual(['b']);
    expect(directory.size).toBe(1);
  });

  it('only reports holders in the requested pools', () => {
    const directory = aDirectory(
      aShard({ id: 'a', pool: 'p1', blocks: [1] }),
      aShard({ id: 'b', pool: 'p2', blocks: [1] }),
    );
    expect(holders(directory, [1], 8, ['p2']).found).toEqual(['b']);
  });

  it('samples READY shards of a pool, from the caller zone when it has any', () => {
    const directory = aDirectory(
      ...Array.from({ length: 40 }, (_, i) => aShard({ id: `east-${i}`, zone: 'east' })),
      ...Array.from({ length: 40 }, (_, i) => aShard({ id: `west-${i}`, zone: 'west' })),
      aShard({ id: 'east-failed', zone: 'east', state: 'failed' }),
    );
    const gathered = new CandidateSet();

    directory.sampleReady(['pool-a'], 'east', 6, seededRandom(3), gathered);
    const into = gathered.shards;

    expect(into.length).toBeGreaterThan(0);
    expect(into.length).toBeLessThanOrEqual(6);
    expect(into.every((s) => s.zone === 'east' && s.state === 'ready')).toBe(true);
  });

  it('samples READY shards of the other zones, spread over them', () => {
    const directory = aDirectory(
      ...Array.from({ length: 40 }, (_, i) => aShard({ id: `east-${i}`, zone: 'east' })),
      ...Array.from({ length: 40 }, (_, i) => aShard({ id: `west-${i}`, zone: 'west' })),
      aShard({ id: 'north-0', zone: 'north' }),
    );
    const gathered = new CandidateSet();

    directory.sampleReadyElsewhere(['pool-a'], 'east', 6, seededRandom(3), gathered);
    const into = gathered.shards;

    expect(into.some((s) => s.zone === 'east')).toBe(false);
    expect(into.some((s) => s.id === 'north-0')).toBe(true);
    expect(into.some((s) => s.zone === 'west')).toBe(true);
  });

  it('follows state changes in its READY lists', () => {
    const shard = aShard({ id: 'a' });
    const directory = aDirectory(shard);
    expect(directory.ready('pool-a').map((s) => s.id)).toEqual(['a']);

    directory.upsert({ ...shard, state: 'draining' });

    expect(directory.ready('pool-a')).toEqual([]);
    expect(directory.readyPools()).toEqual([]);
  });
});
