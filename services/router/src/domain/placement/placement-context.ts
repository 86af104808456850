import {
  predictLatency,
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
  private readonly latencies = new Map<string, LatencyPrediction>();

  constructor(
    readonly request: PlacementRequest,
    readonly nowMs: number,
    readonly budgetMs: number,
    private readonly match: PrefixMatch,
    private readonly latency: LatencyModelConfig,
    private readonly queues: QueueDepth,
  ) {
    this.pools = new Set(request.pools);
  }

  prefixBlocksOn(shard: ShardView): number {
    return this.match.blocksOn(shard);
  }

  predictedLatency(shard: ShardView): LatencyPrediction {
    let predicted = this.latencies.get(shard.id);
    if (predicted === undefined) {
      predicted = predictLatency(
        shard,
        {
          promptTokens: this.request.promptTokens,
          cachedBlocks: this.prefixBlocksOn(shard),
          queuedAhead: this.queues.queuedAhead(shard.id, this.request.priority),
        },
        this.latency,
      );
      this.latencies.set(shard.id, predicted);
    }
    return predicted;
  }
}
