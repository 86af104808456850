import type { LatencyPrediction } from '../spill/latency-model.js';
import type { ShardView } from './shard-view.js';

/**
 * Why a turn landed where it did (the ChatService's `placement_reason`):
 * - affinity: the conversation's own shard;
 * - spill: its own shard would break the turn's latency budget and this one would not;
 * - new: the conversation had no shard yet;
 * - failover: its shard failed, vanished, or failed this very turn;
 * - migration: its shard is draining or starting, or the conversation's pool changed (a canary
 *   ramp or a rollback), or the migration saga asked.
 */
export type PlacementReason = 'affinity' | 'spill' | 'new' | 'failover' | 'migration';

/** What a trace span records about the choice. */
export interface PlacementScores {
  /** Weighted score of the chosen shard, in [0, 1]. */
  readonly total: number;
  readonly byScorer: Readonly<Record<string, number>>;
  /** Shards that were scored. */
  readonly candidates: number;
  readonly budgetMs: number;
  readonly predicted: LatencyPrediction;
  /** For a spill: the prediction on the shard it left, which broke the budget. */
  readonly predictedOnLeft?: LatencyPrediction | undefined;
}

export type PlacementDecision =
  | {
      readonly kind: 'placed';
      readonly shard: ShardView;
      readonly reason: PlacementReason;
      readonly scores: PlacementScores;
      /** The shard the conversation leaves, for spill, failover and migration. */
      readonly previousShardId?: string | undefined;
    }
  | {
      /** No READY shard in the turn's pools (after exclusions). */
      readonly kind: 'unplaceable';
      readonly reason: 'no-eligible-shard';
      readonly budgetMs: number;
    };
