import type { ShardView } from '../placement/shard-view.js';
import {
  predictLatency,
  type LatencyModelConfig,
  type LatencyPrediction,
  type TurnShape,
} from './latency-model.js';

/**
 * The spill question for the conversation's own shard: would this turn's first token break its
 * budget there? Spilling also needs another shard that would not (the pipeline's
 * fits-latency-budget filter) and a tier that may spill.
 */
export interface SpillCheck {
  readonly breaksBudget: boolean;
  readonly predicted: LatencyPrediction;
  readonly budgetMs: number;
}

export function checkSpill(
  assigned: ShardView,
  turn: TurnShape,
  budgetMs: number,
  config: LatencyModelConfig,
): SpillCheck {
  const predicted = predictLatency(assigned, turn, config);
  return { breaksBudget: breaksBudget(predicted, budgetMs), predicted, budgetMs };
}

/** The one definition of "over budget" that spill and the fits-latency-budget filter share. */
export function breaksBudget(predicted: LatencyPrediction, budgetMs: number): boolean {
  return ttftBreaksBudget(predicted.ttftMs, budgetMs);
}

/** The same, for a predicted first token alone. */
export function ttftBreaksBudget(ttftMs: number, budgetMs: number): boolean {
  return ttftMs > budgetMs;
}
