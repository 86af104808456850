import type { shard as proto } from '@spillway/contracts';
import type { LogPort, ShardLifecycleObserver, TurnAdmission } from '../../application/index.js';
import type { ShardDirectory } from '../../domain/index.js';
import { WATCH_DEADLINE_MS, type RegistryClient } from './registry-client.js';
import { toShardLoad, toShardView } from './shard-view.mapper.js';

/**
 * Keeps the router's ShardDirectory current from the registry's WatchShards stream: a snapshot,
 * then every change. State changes apply at once (and reach the lifecycle observers: queues,
 * open streams, later the migration saga); heartbeats bring load reports and recent prefix blocks.
 */
export class ShardWatchConsumer {
  constructor(
    private readonly client: RegistryClient,
    private readonly directory: ShardDirectory,
    private readonly admission: TurnAdmission,
    private readonly observer: ShardLifecycleObserver,
    private readonly log: LogPort,
  ) {}

  readonly consume = async (signal: AbortSignal, healthy: () => void): Promise<void> => {
    const stream = this.client.watchShards(
      { pool: '', lifecycleOnly: false },
      { signal, deadline: WATCH_DEADLINE_MS },
    );
    for await (const message of stream) {
      const change = message.change;
      if (change === undefined) continue;
      switch (change.$case) {
        case 'snapshot':
          this.applySnapshot(change.value.shards);
          healthy();
          break;
        case 'upserted':
          this.applyShard(change.value);
          break;
        case 'removedShardId':
          this.remove(change.value);
          break;
        default: {
          const unknown: never = change;
          throw new Error(`unknown shard change ${JSON.stringify(unknown)}`);
        }
      }
    }
  };

  private applySnapshot(shards: readonly proto.Shard[]): void {
    const present = new Set(shards.map((shard) => shard.shardId));
    for (const known of this.directory.all()) if (!present.has(known.id)) this.remove(known.id);
    for (const shard of shards) this.applyShard(shard);
    this.log.info('shard directory rebuilt from the registry', { shards: shards.length });
  }

  private applyShard(shard: proto.Shard): void {
    const previous = this.directory.get(shard.shardId);
    const view = toShardView(shard, previous);
    this.directory.upsert(view);
    if (shard.load !== undefined) {
      this.admission.applyLoadReport(
        shard.shardId,
        toShardLoad(shard.load),
        shard.load.recentPrefixBlocks,
      );
    }
    if (previous?.state !== view.state) {
      this.observer.shardChanged({
        shardId: view.id,
        previous: previous?.state,
        current: view.state,
      });
    }
  }

  private remove(shardId: string): void {
    const previous = this.directory.get(shardId);
    if (previous === undefined) return;
    this.directory.remove(shardId);
    this.observer.shardChanged({ shardId, previous: previous.state, current: 'gone' });
  }
}
