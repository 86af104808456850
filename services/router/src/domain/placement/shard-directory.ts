import { randomIndex, type Random } from '../random.js';
import { BlockIndex } from '../prefix/block-index.js';
import { BlockSet } from '../prefix/block-set.js';
import type { CandidateSet } from './candidate-set.js';
import { sampledAtOrBelow, type PrefixMatch } from './prefix-match.js';

/** Holders of one block beyond which the walk stops recording them one by one. */
const EAGER_HOLDERS = 32;
/** Holders of one block beyond which the walk leaves finding them to uniform samples. */
const SAMPLED_HOLDERS = 256;
import type { ShardLoad, ShardView } from './shard-view.js';

/**
 * The router's local copy of the shard registry (fed by its watch stream and load reports), indexed
 * for placement at 1,000+ shards:
 * - READY shards per pool and per (pool, zone), rebuilt only when a shard's state, pool or zone
 *   changes, for uniform samples without a scan;
 * - an inverted index block hash → shards that recently served it, kept current on every load
 *   report, so the shards holding a prompt's prefix are found without testing every shard.
 * Views are immutable and replaced whole; indexes hold slots and read the current view through them.
 */
export interface ShardDirectoryOptions {
  /**
   * Keep and index one recent block hash in this many (a power of two; see onBlockSample). 1 is
   * exact. With 16-token blocks, 8 cuts index upkeep and memory eightfold for matches found to
   * within about 128 tokens; with 512-token trace blocks, keep 1.
   */
  readonly sampleEvery?: number;
}

export class ShardDirectory {
  readonly sampleEvery: number;
  private readonly slotById = new Map<string, number>();
  private readonly shards: (ShardView | undefined)[] = [];
  private readonly freeSlots: number[] = [];
  private readonly holders = new BlockIndex(1 << 16);
  private groups: ReadyGroups | undefined;
  private readyPoolNames: string[] = [];
  /** The fastest prefill a shard states, and whether some shard states none; undefined: rescan. */
  private prefillRates: { fastest: number; unstated: boolean } | undefined;
  /** The walk's probe positions and their index entries (a probe per doubling: 64 is plenty). */
  private readonly probeAt = new Int32Array(64);
  private readonly probeEntry = new Int32Array(64);

  constructor(options: ShardDirectoryOptions = {}) {
    this.sampleEvery = options.sampleEvery ?? 1;
    // Validates the rate now rather than at the first load report.
    BlockSet.of([], this.sampleEvery);
  }

  get size(): number {
    return this.slotById.size;
  }

  get(shardId: string): ShardView | undefined {
    const slot = this.slotById.get(shardId);
    return slot === undefined ? undefined : this.shards[slot];
  }

  upsert(view: ShardView): void {
    const blocks = view.recentPrefixBlocks;
    if (blocks.size > 0 && blocks.sampleEvery !== this.sampleEvery) {
      throw new RangeError(
        `shard ${view.id}: recent blocks sampled 1 in ${blocks.sampleEvery}, the directory 1 in ${this.sampleEvery}`,
      );
    }
    let slot = this.slotById.get(view.id);
    const previous = slot === undefined ? undefined : this.shards[slot];
    if (slot === undefined) {
      slot = this.freeSlots.pop() ?? this.shards.length;
      this.slotById.set(view.id, slot);
    }
    if (previous?.recentPrefixBlocks !== view.recentPrefixBlocks) {
      this.reindexBlocks(slot, previous?.recentPrefixBlocks, view.recentPrefixBlocks);
    }
    if (
      previous === undefined ||
      previous.state !== view.state ||
      previous.pool !== view.pool ||
      previous.zone !== view.zone
    ) {
      this.groups = undefined;
    }
    if (
      previous === undefined ||
      previous.capacity.prefillTokensPerSecond !== view.capacity.prefillTokensPerSecond
    ) {
      this.prefillRates = undefined;
    }
    this.shards[slot] = view;
  }

  /**
   * Applies a shard's load report. The recent-block list is rebuilt and re-indexed only when it
   * differs from the last one: most reports arrive between turns and carry the same list.
   */
  reportLoad(shardId: string, load: ShardLoad, recentPrefixBlocks: ArrayLike<number>): boolean {
    const current = this.get(shardId);
    if (current === undefined) return false;
    const blocks = current.recentPrefixBlocks.isBuiltFrom(recentPrefixBlocks)
      ? current.recentPrefixBlocks
      : BlockSet.of(recentPrefixBlocks, this.sampleEvery);
    this.upsert({ ...current, load, recentPrefixBlocks: blocks });
    return true;
  }

  remove(shardId: string): void {
    const slot = this.slotById.get(shardId);
    if (slot === undefined) return;
    const previous = this.shards[slot];
    if (previous) this.reindexBlocks(slot, previous.recentPrefixBlocks, undefined);
    this.shards[slot] = undefined;
    this.slotById.delete(shardId);
    this.freeSlots.push(slot);
    this.groups = undefined;
    this.prefillRates = undefined;
  }

  /**
   * The fastest prefill of any shard here, tokens per second, a shard that states none taken at
   * `defaultRate` (as the latency model takes it): no candidate prefills faster. 0 when empty.
   */
  fastestPrefillTokensPerSecond(defaultRate: number): number {
    const rates = (this.prefillRates ??= this.scanPrefillRates());
    return rates.unstated ? Math.max(rates.fastest, defaultRate) : rates.fastest;
  }

  all(): ShardView[] {
    return this.shards.filter((shard): shard is ShardView => shard !== undefined);
  }

  /** Every shard in the pools, whatever its state (for exhaustive placement). */
  inPools(pools: ReadonlySet<string>): ShardView[] {
    if (pools.size === 0) return this.all();
    return this.shards.filter(
      (shard): shard is ShardView => shard !== undefined && pools.has(shard.pool),
    );
  }

  /** READY shards of a pool, in the zone when one is given and the pool has any there. */
  ready(pool: string, zone?: string): readonly ShardView[] {
    const out: ShardView[] = [];
    for (const slot of this.readySlots(pool, zone)) {
      const shard = this.shards[slot];
      if (shard) out.push(shard);
    }
    return out;
  }

  /** Pools with at least one READY shard. */
  readyPools(): readonly string[] {
    this.groups ??= this.buildGroups();
    return this.readyPoolNames;
  }

  /** Draws up to `count` READY shards of the pools at random (fewer when the pools are smaller). */
  sampleReady(
    pools: readonly string[],
    zone: string | undefined,
    count: number,
    random: Random,
    into: CandidateSet,
  ): void {
    const take = Math.ceil(count / Math.max(1, pools.length));
    for (const pool of pools) this.sampleSlots(this.readySlots(pool, zone), take, random, into);
  }

  /** Keeps a shard out of the candidates gathered into `into` (until it is cleared). */
  exclude(into: CandidateSet, shardId: string): void {
    const slot = this.slotById.get(shardId);
    if (slot !== undefined) into.exclude(slot);
  }

  /** The same, from the pools' zones other than `zone`, spread over them (a spill leaving its zone). */
  sampleReadyElsewhere(
    pools: readonly string[],
    zone: string,
    count: number,
    random: Random,
    into: CandidateSet,
  ): void {
    const groups = (this.groups ??= this.buildGroups());
    for (const pool of pools) {
      const byZone = groups.get(pool)?.byZone;
      if (byZone === undefined) continue;
      const others = byZone.size - (byZone.has(zone) ? 1 : 0);
      const take = Math.ceil(count / Math.max(1, pools.length * others));
      for (const [other, slots] of byZone)
        if (other !== zone) this.sampleSlots(slots, take, random, into);
    }
  }

  private sampleSlots(
    slots: readonly number[],
    take: number,
    random: Random,
    into: CandidateSet,
  ): void {
    // A small group is taken whole: sampling it would only miss shards.
    if (slots.length <= take * 2) {
      for (const slot of slots) this.take(slot, into);
      return;
    }
    for (let drawn = 0; drawn < take; drawn++) {
      const slot = slots[randomIndex(random, slots.length)];
      if (slot !== undefined) this.take(slot, into);
    }
  }

  /**
   * Walks the block index at the prompt's probe positions (deepest block first, then doubling gaps:
   * O(log n) lookups for n blocks) and records in `match` every holder of each probed block, so
   * placement never tests shards one by one for a prefix. The first `limit` holders in `pools`,
   * deepest match first, are added to `into` as candidates.
   *
   * A block held by more than EAGER_HOLDERS shards (a popular document, a shared system prompt) is
   * deferred to one lookup per shard asked about; candidates are still taken from its holders, at a
   * random skip so the same few are not always the ones taken, unless it is held by more than
   * SAMPLED_HOLDERS: then uniform samples of the pool find its holders just as well.
   */
  walkPrefixHolders(
    match: PrefixMatch,
    pools: ReadonlySet<string>,
    limit: number,
    random: Random,
    into: CandidateSet,
  ): void {
    const blocks = match.blocks;
    const index = this.holders;
    match.markWalked();
    // The probe positions of PrefixMatch.probes, each moved down to a block on the sample.
    const positions = this.probeAt;
    const entries = this.probeEntry;
    let probes = 0;
    for (let probe = blocks.length - 1, gap = 1; probe >= 0; gap *= 2) {
      const at = sampledAtOrBelow(blocks, probe, 0, this.sampleEvery);
      if (at < 0) break;
      probe = at === 0 ? -1 : Math.max(0, at - gap);
      positions[probes++] = at;
    }
    // All the lookups first, in a loop of their own, so that their cache misses overlap.
    for (let i = 0; i < probes; i++) entries[i] = index.entry(blocks[positions[i] ?? 0] ?? 0);
    let taken = 0;
    for (let i = 0; i < probes; i++) {
      const at = positions[i] ?? 0;
      const entry = entries[i] ?? -1;
      if (entry < 0) continue;
      const holders = index.holdersAt(entry);
      const crowded = holders > EAGER_HOLDERS;
      if (crowded) match.defer(at);
      if (crowded && (taken >= limit || holders > SAMPLED_HOLDERS)) continue;
      let skip = crowded ? randomIndex(random, holders - (limit - taken) + 1) : 0;
      // A plain loop over the holder list, not a callback: this runs for every probed block.
      for (let node = index.firstNodeAt(entry); node >= 0; node = index.nextNode(node)) {
        const slot = index.holderOf(node);
        const shard = this.shards[slot];
        if (shard === undefined || (pools.size > 0 && !pools.has(shard.pool))) continue;
        if (!crowded) match.recordHolder(shard, at);
        if (skip > 0) {
          skip--;
          continue;
        }
        if (taken < limit && into.add(slot, shard)) taken++;
        if (crowded && taken >= limit) break;
      }
    }
  }

  private take(slot: number, into: CandidateSet): void {
    const shard = this.shards[slot];
    if (shard !== undefined) into.add(slot, shard);
  }

  private reindexBlocks(
    slot: number,
    before: BlockSet | undefined,
    after: BlockSet | undefined,
  ): void {
    before?.forEach((hash) => {
      if (!after?.has(hash)) this.holders.remove(hash, slot);
    });
    after?.forEach((hash) => {
      if (!before?.has(hash)) this.holders.add(hash, slot);
    });
  }

  private scanPrefillRates(): { fastest: number; unstated: boolean } {
    let fastest = 0;
    let unstated = false;
    for (const shard of this.shards) {
      const rate = shard?.capacity.prefillTokensPerSecond;
      if (shard === undefined) continue;
      if (rate === undefined) unstated = true;
      else if (rate > fastest) fastest = rate;
    }
    return { fastest, unstated };
  }

  private readySlots(pool: string, zone: string | undefined): readonly number[] {
    const group = (this.groups ??= this.buildGroups()).get(pool);
    if (group === undefined) return [];
    return (zone === undefined ? undefined : group.byZone.get(zone)) ?? group.all;
  }

  private buildGroups(): ReadyGroups {
    const groups: ReadyGroups = new Map();
    this.shards.forEach((shard, slot) => {
      if (shard?.state !== 'ready') return;
      let group = groups.get(shard.pool);
      if (group === undefined) {
        group = { all: [], byZone: new Map() };
        groups.set(shard.pool, group);
      }
      group.all.push(slot);
      const zone = group.byZone.get(shard.zone);
      if (zone === undefined) group.byZone.set(shard.zone, [slot]);
      else zone.push(slot);
    });
    this.readyPoolNames = [...groups.keys()];
    return groups;
  }
}

/** READY shard slots per pool, and per zone within it. */
type ReadyGroups = Map<string, { all: number[]; byZone: Map<string, number[]> }>;
