import type { QueueDepth } from '../placement/placement-context.js';
import type { PriorityTier } from '../placement/placement-request.js';
import { ShardQueue } from './shard-queue.js';

/** The router's queues, one per shard, created on first use; also what placement reads as depth. */
export class ShardQueues implements QueueDepth {
  private readonly queues = new Map<string, ShardQueue>();

  constructor(readonly capacityPerShard: number) {}

  of(shardId: string): ShardQueue {
    let queue = this.queues.get(shardId);
    if (queue === undefined) {
      queue = new ShardQueue(this.capacityPerShard);
      this.queues.set(shardId, queue);
    }
    return queue;
  }

  queuedAhead(shardId: string, priority: PriorityTier): number {
    return this.queues.get(shardId)?.queuedAhead(priority) ?? 0;
  }

  /** A shard that left: its queued turns go back to the caller for placement elsewhere. */
  drop(shardId: string): ReturnType<ShardQueue['turns']> {
    const turns = this.queues.get(shardId)?.turns() ?? [];
    this.queues.delete(shardId);
    return turns;
  }
}
