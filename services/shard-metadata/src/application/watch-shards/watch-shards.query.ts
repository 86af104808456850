import type { Shard } from '../../domain/shard.js';
import type { ShardRegistry } from '../registry/shard-registry.js';
import type { ShardChange } from '../registry/shard-change.js';

export interface WatchShardsRequest {
  /** Empty: every pool. */
  readonly pool: string;
  /** Leave out heartbeats that change only load. */
  readonly lifecycleOnly: boolean;
}

export type ShardWatchMessage =
  | { readonly kind: 'snapshot'; readonly shards: readonly Shard[]; readonly revision: number }
  | { readonly kind: 'upserted'; readonly shard: Shard }
  | { readonly kind: 'removed'; readonly shardId: string; readonly revision: number };

/** The shard set first (removed shards left out), then every change, in revision order. */
export class WatchShardsQuery {
  constructor(
    private readonly registry: ShardRegistry,
    private readonly maxBuffered: number,
  ) {}

  async *execute(
    request: WatchShardsRequest,
    signal: AbortSignal,
  ): AsyncGenerator<ShardWatchMessage, void, undefined> {
    const inPool = (pool: string): boolean => request.pool === '' || pool === request.pool;
    const watch = this.registry.watch({ signal, maxBuffered: this.maxBuffered });
    try {
      const shards = watch.snapshot.filter(
        (shard) => shard.state !== 'removed' && inPool(shard.pool),
      );
      yield { kind: 'snapshot', shards, revision: watch.revision };
      for await (const change of watch.changes) {
        const message = toMessage(change, request, inPool);
        if (message) yield message;
      }
    } finally {
      watch.changes.close();
    }
  }
}

function toMessage(
  change: ShardChange,
  request: WatchShardsRequest,
  inPool: (pool: string) => boolean,
): ShardWatchMessage | undefined {
  const { shard } = change;
  switch (change.kind) {
    case 'removed':
      return inPool(shard.pool)
        ? { kind: 'removed', shardId: shard.shardId, revision: shard.revision }
        : undefined;
    case 'upserted':
      if (inPool(shard.pool)) {
        return request.lifecycleOnly && !change.lifecycle ? undefined : { kind: 'upserted', shard };
      }
      // It moved to another pool: for a watcher of its old pool it is gone.
      return change.previousPool !== undefined && inPool(change.previousPool)
        ? { kind: 'removed', shardId: shard.shardId, revision: shard.revision }
        : undefined;
    default: {
      const unhandled: never = change;
      return unhandled;
    }
  }
}
