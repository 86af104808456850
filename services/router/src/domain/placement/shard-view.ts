import type { BlockSet } from '../prefix/block-set.js';

/** Mirrors the registry's ShardState; only `ready` shards take new turns. */
export type ShardState = 'starting' | 'ready' | 'draining' | 'failed' | 'removed';

/** One load report, as the shard's inference adapter last sent it. */
export interface ShardLoad {
  readonly running: number;
  readonly waiting: number;
  /** Fraction of KV-cache blocks in use, 0..1. */
  readonly kvCacheUsage: number;
  /**
   * Streams open on the shard (its adapter's admission bound is `capacity.maxInFlight`): this
   * router's own, counted live, plus other replicas' as of the last report.
   */
  readonly inFlight: number;
  /**
   * Predicted prefill still ahead on the shard for this router's turns that have not had their
   * first token yet, milliseconds, counted live. A prefill-bound engine reaches a new turn's
   * prompt after these (reports cannot say it: they are up to a heartbeat old, and under a burst
   * the backlog turns over several times in that while).
   */
  readonly prefillBacklogMs: number;
  /** Recent first-token latency, and the engine-queue wait that is part of it. */
  readonly ttftMsP50: number;
  readonly queueTimeMsP50: number;
  readonly itlMsP50: number;
  readonly observedAtMs: number;
}

export interface ShardCapacity {
  readonly maxInFlight: number;
  readonly kvCapacityTokens: number;
  /** Prefill throughput when the hardware profile states it; the latency model has a default. */
  readonly prefillTokensPerSecond?: number;
}

/** What placement knows about one shard: registry facts plus its latest load report. */
export interface ShardView {
  readonly id: string;
  readonly pool: string;
  readonly model: string;
  readonly zone: string;
  readonly endpoint: string;
  readonly state: ShardState;
  readonly capacity: ShardCapacity;
  readonly load: ShardLoad;
  /** Prefix block hashes the shard served recently (see prefix-blocks.ts). */
  readonly recentPrefixBlocks: BlockSet;
}

export const IDLE_LOAD: ShardLoad = {
  running: 0,
  waiting: 0,
  kvCacheUsage: 0,
  inFlight: 0,
  prefillBacklogMs: 0,
  ttftMsP50: 0,
  queueTimeMsP50: 0,
  itlMsP50: 0,
  observedAtMs: 0,
};

export function withLoad(
  shard: ShardView,
  load: ShardLoad,
  recentPrefixBlocks?: BlockSet,
): ShardView {
  return { ...shard, load, recentPrefixBlocks: recentPrefixBlocks ?? shard.recentPrefixBlocks };
}
