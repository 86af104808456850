import type { ShardState } from '../../domain/index.js';

/** A shard's state as this router's copy of the registry saw it change; 'gone' when removed. */
export interface ShardStateChange {
  readonly shardId: string;
  readonly previous: ShardState | undefined;
  readonly current: ShardState | 'gone';
}

/**
 * Who reacts when a shard changes state. Today: admission (turns queued for a shard that stopped
 * taking turns go elsewhere) and failover (open streams to a FAILED shard are cut and resumed).
 * The migration saga (issue 5) subscribes here too, to move the conversations pinned to a FAILED or
 * DRAINING shard.
 */
export interface ShardLifecycleObserver {
  shardChanged(change: ShardStateChange): void;
}

export class ShardLifecycleObservers implements ShardLifecycleObserver {
  constructor(private readonly observers: readonly ShardLifecycleObserver[]) {}

  shardChanged(change: ShardStateChange): void {
    for (const observer of this.observers) observer.shardChanged(change);
  }
}
