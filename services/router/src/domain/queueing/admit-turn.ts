import type { PriorityTier } from '../placement/placement-request.js';
import type { ShardView } from '../placement/shard-view.js';
import { drainRatePerSecond, type LatencyModelConfig } from '../spill/latency-model.js';
import type { EnqueueOutcome, ShardQueue } from './shard-queue.js';

export interface TurnToAdmit {
  readonly turnId: string;
  readonly priority: PriorityTier;
  readonly budgetMs: number;
  /** Predicted prefill on this shard: the turn must start that much before its budget runs out. */
  readonly prefillMs: number;
}

export type Admission = { readonly kind: 'dispatch' } | EnqueueOutcome;

/**
 * A placed turn either starts now (a free stream slot and nobody of its priority or higher waiting)
 * or waits in the shard's queue with a deadline of budget minus prefill, where it is refused early
 * if it cannot make it.
 */
export function admitTurn(
  shard: ShardView,
  queue: ShardQueue,
  turn: TurnToAdmit,
  nowMs: number,
  latency: LatencyModelConfig,
): Admission {
  if (shard.load.inFlight < shard.capacity.maxInFlight && queue.queuedAhead(turn.priority) === 0) {
    return { kind: 'dispatch' };
  }
  return queue.enqueue(
    {
      turnId: turn.turnId,
      priority: turn.priority,
      deadlineMs: nowMs + Math.max(0, turn.budgetMs - turn.prefillMs),
      enqueuedAtMs: nowMs,
    },
    nowMs,
    drainRatePerSecond(shard, latency),
  );
}
