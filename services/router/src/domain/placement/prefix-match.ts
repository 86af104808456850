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
  private readonly exactShards: ShardView[] = [];
  private readonly exactDepths: number[] = [];
  /** Created by the first record: most prompts' blocks are held by no one or by everyone. */
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
    return this.recorded?.has(shardId) ?? false;
  }

  /**
   * An upper bound on `blocksOn` that looks nothing up in the shard's block set: after the walk, a
   * shard holds at most its recorded depth or the deepest deferred block.
   */
  blocksAtMost(shard: ShardView): number {
    if (!this.walked || shard === this.lastShard || this.exactShards.includes(shard)) {
      return this.blocksOn(shard);
    }
    const recorded = this.recorded?.get(shard.id) ?? 0;
    const deepestDeferred = this.deferred.length > 0 ? (this.deferred[0] ?? 0) + 1 : 0;
    return recorded > deepestDeferred ? recorded : deepestDeferred;
  }

  blocksOn(shard: ShardView): number {
    if (shard === this.lastShard) return this.lastDepth;
    const exact = this.exactShards.indexOf(shard);
    if (exact >= 0) return this.exactDepths[exact] ?? 0;
    const held = shard.recentPrefixBlocks;
    if (!this.walked) {
      const depth = heldPrefixBlocks(held, this.blocks);
      this.exactShards.push(shard);
      this.exactDepths.push(depth);
      return depth;
    }
    // After the walk this is a map lookup and a probe or two: cheaper to redo than to memoize.
    let depth = this.recorded?.get(shard.id) ?? 0;
    for (const index of this.deferred) {
      if (index < depth) break;
      if (held.has(this.blocks[index] ?? 0)) {
        depth = index + 1;
        break;
      }
    }
    this.lastShard = shard;
    this.lastDepth = depth;
    return depth;
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
  let above = blocks.length;
  let gap = 1;
  let probe = sampledAtOrBelow(blocks, blocks.length - 1, 0, every);
  while (probe >= 0 && !held.has(blocks[probe] ?? 0)) {
    above = probe;
    probe = probe === 0 ? -1 : sampledAtOrBelow(blocks, Math.max(0, probe - gap), 0, every);
    gap *= 2;
  }
  if (probe < 0) return 0;
  let lo = probe;
  let hi = above;
  for (;;) {
    const middle = (lo + hi) >>> 1;
    let next = sampledAtOrBelow(blocks, middle, lo + 1, every);
    if (next < 0) next = sampledAtOrAbove(blocks, middle + 1, hi - 1, every);
    if (next < 0) return lo + 1;
    if (held.has(blocks[next] ?? 0)) lo = next;
    else hi = next;
  }
}

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
