import {
  predictPrefillMs,
  predictQueueWaitMs,
  type LatencyModelConfig,
  type LatencyPrediction,
} from '../spill/latency-model.js';
import type { PlacementContext } from './policy.js';
import type { PlacementRequest, PriorityTier } from './placement-request.js';
import type { PrefixMatch } from './prefix-match.js';
import type { ShardView } from './shard-view.js';

/** The router's own queue depth per shard: turns that would be served before one of `priority`. */
export interface QueueDepth {
  queuedAhead(shardId: string, priority: PriorityTier): number;
}

export const NO_QUEUES: QueueDepth = { queuedAhead: () => 0 };

export class DecisionContext implements PlacementContext {
  readonly pools: ReadonlySet<string>;
  /**
   * The last prediction: a filter and then the decision itself ask about the same shard in a row.
   * Anything else is recomputed, which costs less than keeping a map per decision.
   */
  private lastShard: ShardView | undefined;
  private lastPrediction: LatencyPrediction | undefined;
  private waitShard: ShardView | undefined;
  private waitMs = 0;

  constructor(
    readonly request: PlacementRequest,
    readonly nowMs: number,
    readonly budgetMs: number,
    private readonly match: PrefixMatch,
    private readonly latency: LatencyModelConfig,
    private readonly queues: QueueDepth,
    pools: ReadonlySet<string> = new Set(request.pools),
  ) {
    this.pools = pools;
  }

  prefixBlocksOn(shard: ShardView): number {
    return this.match.blocksOn(shard);
  }

  prefixBlocksAtMost(shard: ShardView): number {
    return this.match.blocksAtMost(shard);
  }

  predictedLatency(shard: ShardView): LatencyPrediction {
    if (shard === this.lastShard && this.lastPrediction !== undefined) return this.lastPrediction;
    // predictLatency's two parts, so that the queue wait is computed once with the bound below.
    const queueWaitMs = this.queueWaitMs(shard);
    const prefillMs = predictPrefillMs(
      shard,
      this.request.promptTokens,
      this.prefixBlocksOn(shard),
      this.latency,
    );
    const predicted = { queueWaitMs, prefillMs, ttftMs: queueWaitMs + prefillMs };
    this.lastShard = shard;
    this.lastPrediction = predicted;
    return predicted;
  }

  predictedTtftMs(shard: ShardView): number {
    if (shard === this.lastShard && this.lastPrediction !== undefined)
      return this.lastPrediction.ttftMs;
    return (
      this.queueWaitMs(shard) +
      predictPrefillMs(shard, this.request.promptTokens, this.prefixBlocksOn(shard), this.latency)
    );
  }

  leastTtftMs(shard: ShardView): number {
    const prefillMs = predictPrefillMs(
      shard,
      this.request.promptTokens,
      this.match.blocksAtMost(shard),
      this.latency,
    );
    return this.queueWaitMs(shard) + prefillMs;
  }

  mostTtftMs(shard: ShardView): number {
    const prefillMs = predictPrefillMs(
      shard,
      this.request.promptTokens,
      this.match.blocksAtLeast(shard),
      this.latency,
    );
    return this.queueWaitMs(shard) + prefillMs;
  }

  private queueWaitMs(shard: ShardView): number {
    if (shard !== this.waitShard) {
      this.waitShard = shard;
      this.waitMs = predictQueueWaitMs(
        shard,
        this.queues.queuedAhead(shard.id, this.request.priority),
        this.latency,
      );
    }
    return this.waitMs;
  }
}
