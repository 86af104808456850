/** Mirrors the contracts' Priority; higher rank is served first and shed last. */
export type PriorityTier = 'batch' | 'low' | 'standard' | 'high' | 'critical';

export const PRIORITY_RANK: Readonly<Record<PriorityTier, number>> = {
  batch: 1,
  low: 2,
  standard: 3,
  high: 4,
  critical: 5,
};

/**
 * Why placement runs: an ordinary turn, a turn whose shard failed under it (the router retries or
 * resumes it elsewhere), or the migration saga moving a pinned conversation off its shard.
 */
export type PlacementPurpose = 'turn' | 'failover' | 'migration';

/** One turn, as placement sees it. */
export interface PlacementRequest {
  readonly conversationId: string;
  /** The conversation's current pin, if it has one. */
  readonly assignedShardId?: string | undefined;
  /**
   * Leading prompt blocks the router knows the assigned shard holds, because it sent them there
   * (PlacedPrefixes). A shard's load report lists only its most recent blocks, so a long
   * conversation can look uncached on its own shard; placement takes the larger of the two.
   */
  readonly assignedCachedBlocks?: number | undefined;
  /** Chained block hashes of the prompt, first block first (prefix-blocks.ts). */
  readonly promptBlocks: readonly number[];
  readonly promptTokens: number;
  readonly priority: PriorityTier;
  /** Time-to-first-token budget; absent or 0 means the tier's default. */
  readonly ttftBudgetMs?: number | undefined;
  /** The caller's zone: shards there are preferred. */
  readonly zone?: string | undefined;
  /** Pools that may serve the turn (from the model's canary split). */
  readonly pools: readonly string[];
  readonly purpose?: PlacementPurpose | undefined;
  /** Shards this turn already failed on; never chosen again for it. */
  readonly excludedShardIds?: readonly string[] | undefined;
}
