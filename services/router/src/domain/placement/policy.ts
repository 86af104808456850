import type { LatencyPrediction } from '../spill/latency-model.js';
import type { PlacementRequest } from './placement-request.js';
import type { ShardView } from './shard-view.js';

/**
 * The three kinds of placement policy, after the llm-d inference scheduler's plugins: filters narrow
 * the candidates, scorers rate each survivor in [0, 1], a picker chooses one from the weighted
 * totals. Adding a policy is one file implementing one of these, plus its name in
 * policy-registry.ts so configuration can refer to it.
 */
export interface Filter {
  readonly name: string;
  filter(shards: readonly ShardView[], context: PlacementContext): readonly ShardView[];
}

export interface Scorer {
  readonly name: string;
  /** In [0, 1]; higher is better. */
  score(shard: ShardView, context: PlacementContext): number;
  /**
   * Optional: an upper bound on `score` from the context's bounds, which look nothing up in the
   * shard's block set. A scorer without one is bounded by its score. The pipeline skips the exact
   * scores of a candidate whose bound already loses (see Picker.cannotPickBelow).
   */
  bound?(shard: ShardView, context: PlacementContext): number;
}

export interface ScoredShard {
  readonly shard: ShardView;
  /** Weighted mean of the scorers, in [0, 1]. */
  readonly score: number;
}

export interface Picker {
  readonly name: string;
  pick(scored: readonly ScoredShard[], context: PlacementContext): ScoredShard | undefined;
  /**
   * Optional, for a picker that ignores clearly worse candidates: given the candidates scored so
   * far (in order), a score below which the next one cannot change the pick, so leaving it out of
   * `pick` changes nothing. Without it every candidate is scored exactly.
   */
  cannotPickBelow?(scored: readonly ScoredShard[]): number;
}

/**
 * The turn being placed, plus what is worth computing once per decision and sharing between
 * policies (the prefix match and the latency prediction per shard, both memoized).
 */
export interface PlacementContext {
  readonly request: PlacementRequest;
  readonly nowMs: number;
  /** The turn's TTFT budget after its tier's policy. */
  readonly budgetMs: number;
  /** The request's pools as a set; empty means any pool. */
  readonly pools: ReadonlySet<string>;
  /** How many of the prompt's leading blocks the shard recently served. */
  prefixBlocksOn(shard: ShardView): number;
  /** An upper bound on prefixBlocksOn that looks nothing up in the shard's block set. */
  prefixBlocksAtMost(shard: ShardView): number;
  predictedLatency(shard: ShardView): LatencyPrediction;
  /** predictedLatency(shard).ttftMs, without building the prediction (scorers run per shard). */
  predictedTtftMs(shard: ShardView): number;
  /**
   * A lower bound on the predicted first token, from the queue wait and the most prefix the shard
   * could hold, without looking its cache up: a shard over budget even so is rejected cheaply.
   */
  leastTtftMs(shard: ShardView): number;
  /**
   * An upper bound, from the least prefix the shard holds (what the walk recorded), without looking
   * its cache up: a shard within budget even so fits without a lookup.
   */
  mostTtftMs(shard: ShardView): number;
}
