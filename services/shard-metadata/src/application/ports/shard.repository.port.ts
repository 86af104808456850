import type { ShardLifecycleEvent } from '../../domain/shard-events.js';
import type { Shard } from '../../domain/shard.js';

export const SHARD_REPOSITORY = Symbol('ShardRepository');

/** Durable shard records. Heartbeats are not stored: only lifecycle changes are. */
export interface ShardRepository {
  /** Every shard ever registered, removed ones included. */
  loadAll(): Promise<Shard[]>;
  /**
   * Stores the shard as it is after `events` and enqueues the events for publication, in one
   * transaction: either both happen or neither does.
   */
  save(shard: Shard, events: readonly ShardLifecycleEvent[]): Promise<void>;
}
