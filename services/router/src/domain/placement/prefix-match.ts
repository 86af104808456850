import { onBlockSample, type BlockSet } from '../prefix/block-set.js';
import type { ShardView } from './shard-view.js';

/**
 * How many of a prompt's leading blocks each shard holds, worked out at most once per shard per
 * decision.
 *
 * Block hashes chain their parents, so a shard holding block k served a prompt with this exact
 * prefix through block k, and caches keep prefixes closed (a block is only reachable through its
 * parents; engines evict a sequence's tail first). The leading-prefix match, what vLLM's automatic
 * prefix caching would hit, is therefore the deepest prompt block the shard holds.
 *
 * Two ways to get it:
 * - exact, per shard: probe down from the deepest block at doubling gaps, then binary-search
 *   between the first probe held and the one above (O(log n) lookups; a long prompt has thousands
 *   of 16-token blocks, so a linear scan per shard would not do);
 * - from a walk of the shard directory's block index at those same probe positions, which records
 *   every holder of a rarely-held block at once and defers the blocks nearly every shard holds (a
 *   shared system prompt) to one lookup per shard asked about. Depths are then exact at probe
 *   granularity: never over-estimated, and the uncached tail at most doubled.
 * A shard looked at before a walk (the conversation's own shard) keeps its exact depth.
 */
export class PrefixMatch {
  /**
   * Shards resolved before the walk (by exact search) and their depths. Usually just the
   * conversation's own shard: a list, searched by identity, not a map.
   */
  private readonly resolvedShards: ShardView[] = [];
  private readonly resolvedDepths: number[] = [];
  /**
   * Created by the first record: most prompts' blocks are held by no one or by everyone. The walk
   * records the directory's own views, keyed by identity: asking about a candidate then touches
   * neither its id string nor a string hash (a cache miss per candidate otherwise).
   */
  private recordedViews: Map<ShardView, number> | undefined;
  /** Records by shard id (`record`), for callers that hold no view. */
  private recorded: Map<string, number> | undefined;
  /** Probe indexes, deepest first, whose holders were too many to record. */
  private readonly deferred: number[] = [];
  private walked = false;
  /** The last shard resolved after the walk: scorers and filters ask about one shard in a row. */
  private lastShard: ShardView | undefined;
  private lastDepth = 0;

  constructor(readonly blocks: readonly number[]) {}

  /** Probe positions for a walk: deepest block first, then at doubling gaps, ending at block 0. */
  static probes(blockCount: number): number[] {
    const probes: number[] = [];
    let gap = 1;
    for (let index = blockCount - 1; index >= 0; index -= gap, gap *= 2) probes.push(index);
    if (blockCount > 0 && probes[probes.length - 1] !== 0) probes.push(0);
    return probes;
  }

  /** Walk result: the shard holds the block at `index` (its first, deepest, record wins). */
  record(shardId: string, index: number): void {
    this.walked = true;
    this.recorded ??= new Map();
    if (!this.recorded.has(shardId)) this.recorded.set(shardId, index + 1);
  }

  /** The same, for a view the caller holds (the directory's walk): first, deepest, record wins. */
  recordHolder(shard: ShardView, index: number): void {
    this.walked = true;
    this.recordedViews ??= new Map();
    if (!this.recordedViews.has(shard)) this.recordedViews.set(shard, index + 1);
  }

  /** Walk result: the block at `index` is held by too many shards to record each. */
  defer(index: number): void {
    this.walked = true;
    this.deferred.push(index);
  }

  /** Walk result: the walk ran (even if it found no holder at all). */
  markWalked(): void {
    this.walked = true;
  }

  isRecorded(shardId: string): boolean {
    if (this.recorded?.has(shardId) === true) return true;
    for (const shard of this.recordedViews?.keys() ?? []) if (shard.id === shardId) return true;
    return false;
  }

  /**
   * An upper bound on `blocksOn` that looks nothing up in the shard's block set: after the walk, a
   * shard holds at most its recorded depth or the deepest deferred block.
   */
  blocksAtMost(shard: ShardView): number {
    if (!this.walked || shard === this.lastShard || this.resolvedShards.includes(shard)) {
      return this.blocksOn(shard);
    }
    const recorded = this.recordedDepth(shard);
    const deepestDeferred = this.deferred.length > 0 ? (this.deferred[0] ?? 0) + 1 : 0;
    return recorded > deepestDeferred ? recorded : deepestDeferred;
  }

  /**
   * A lower bound on `blocksOn` that looks nothing up in the shard's block set: after the walk the
   * depth starts at the recorded one and only a deferred block can take it deeper.
   */
  blocksAtLeast(shard: ShardView): number {
    if (!this.walked || shard === this.lastShard || this.resolvedShards.includes(shard)) {
      return this.blocksOn(shard);
    }
    return this.recordedDepth(shard);
  }

  /**
   * An upper bound on `blocksOn` for every shard but `except`, that looks nothing up: after the
   * walk, the deepest block recorded or deferred, or the depth of a shard resolved before it
   * (without a walk, the whole prompt).
   */
  blocksAtMostOnAnyBut(except: ShardView): number {
    if (!this.walked) return this.blocks.length;
    let most = this.deferred.length > 0 ? (this.deferred[0] ?? 0) + 1 : 0;
    for (let i = 0; i < this.resolvedShards.length; i++) {
      const depth = this.resolvedDepths[i] ?? 0;
      if (this.resolvedShards[i] !== except && depth > most) most = depth;
    }
    if (this.recordedViews !== undefined) {
      for (const [shard, depth] of this.recordedViews) {
        if (shard !== except && depth > most) most = depth;
      }
    }
    if (this.recorded !== undefined) {
      for (const [id, depth] of this.recorded) if (id !== except.id && depth > most) most = depth;
    }
    return most;
  }

  /**
   * Tells the match that `shard` holds at least `blocks` leading blocks (the router sent them
   * there): its depth becomes the larger of that and what its block set shows.
   */
  holdsAtLeast(shard: ShardView, blocks: number): void {
    const depth = Math.min(this.blocks.length, Math.max(0, Math.floor(blocks)));
    if (depth <= this.blocksOn(shard)) return;
    const at = this.resolvedShards.indexOf(shard);
    if (at >= 0) this.resolvedDepths[at] = depth;
    else {
      this.resolvedShards.push(shard);
      this.resolvedDepths.push(depth);
    }
    if (this.lastShard === shard) this.lastDepth = depth;
  }

  blocksOn(shard: ShardView): number {
    if (shard === this.lastShard) return this.lastDepth;
    const resolved = this.resolvedShards.indexOf(shard);
    if (resolved >= 0) return this.resolvedDepths[resolved] ?? 0;
    if (!this.walked) {
      const depth = heldPrefixBlocks(shard.recentPrefixBlocks, this.blocks);
      this.resolvedShards.push(shard);
      this.resolvedDepths.push(depth);
      return depth;
    }
    // After the walk this is a lookup and a probe or two: cheaper to redo than to memoize.
    const depth = this.walkedDepth(shard);
    this.lastShard = shard;
    this.lastDepth = depth;
    return depth;
  }

  /** The recorded depth, or the deepest deferred block the shard holds if that is deeper. */
  private walkedDepth(shard: ShardView): number {
    const held = shard.recentPrefixBlocks;
    const depth = this.recordedDepth(shard);
    for (const index of this.deferred) {
      if (index < depth) break;
      if (held.has(this.blocks[index] ?? 0)) return index + 1;
    }
    return depth;
  }

  private recordedDepth(shard: ShardView): number {
    const byView = this.recordedViews?.get(shard);
    if (byView !== undefined) return byView;
    return this.recorded === undefined ? 0 : (this.recorded.get(shard.id) ?? 0);
  }
}

/**
 * Leading prompt blocks held in `held`: one past the deepest held position, or 0. With a sampled
 * set only positions on the sample are looked at, so the answer is a lower bound within about
 * `held.sampleEvery` blocks.
 */
export function heldPrefixBlocks(held: BlockSet, blocks: readonly number[]): number {
  if (held.size === 0) return 0;
  const every = held.sampleEvery;
  // The probe positions down from the deepest block at doubling gaps (they do not depend on what
  // is held), then every probe's lookup in one loop, so that their cache misses overlap; the
  // deepest probe held is where the search stops.
  let probes = 0;
  for (
    let probe = sampledAtOrBelow(blocks, blocks.length - 1, 0, every), gap = 1;
    probe >= 0;
    gap *= 2
  ) {
    PROBE_AT[probes++] = probe;
    probe = probe === 0 ? -1 : sampledAtOrBelow(blocks, Math.max(0, probe - gap), 0, every);
  }
  for (let i = 0; i < probes; i++) PROBE_HELD[i] = held.has(blocks[PROBE_AT[i] ?? 0] ?? 0) ? 1 : 0;
  let first = 0;
  while (first < probes && PROBE_HELD[first] === 0) first++;
  if (first === probes) return 0;
  let lo = PROBE_AT[first] ?? 0;
  let hi = first === 0 ? blocks.length : (PROBE_AT[first - 1] ?? 0);
  for (;;) {
    const middle = (lo + hi) >>> 1;
    let next = sampledAtOrBelow(blocks, middle, lo + 1, every);
    if (next < 0) next = sampledAtOrAbove(blocks, middle + 1, hi - 1, every);
    if (next < 0) return lo + 1;
    if (held.has(blocks[next] ?? 0)) lo = next;
    else hi = next;
  }
}

/** heldPrefixBlocks' probes (one per doubling: 64 is plenty); it runs to completion, never nested. */
const PROBE_AT = new Int32Array(64);
const PROBE_HELD = new Uint8Array(64);

/** The deepest position in [floor, from] whose block is on the sample, or -1. */
export function sampledAtOrBelow(
  blocks: readonly number[],
  from: number,
  floor: number,
  every: number,
): number {
  for (let i = from; i >= floor; i--) if (onBlockSample(blocks[i] ?? 0, every)) return i;
  return -1;
}

function sampledAtOrAbove(
  blocks: readonly number[],
  from: number,
  ceiling: number,
  every: number,
): number {
  for (let i = from; i <= ceiling; i++) if (onBlockSample(blocks[i] ?? 0, every)) return i;
  return -1;
}
