import type { Shard } from '../../domain/shard.js';
import type { ShardRegistry } from '../registry/shard-registry.js';

export interface ListShardsFilter {
  /** Empty: every pool. */
  readonly pool: string;
  readonly includeRemoved: boolean;
}

export class ListShardsQuery {
  constructor(private readonly registry: ShardRegistry) {}

  execute(filter: ListShardsFilter): Shard[] {
    return [...this.registry.all()]
      .filter(
        (shard) =>
          (filter.pool === '' || shard.pool === filter.pool) &&
          (filter.includeRemoved || shard.state !== 'removed'),
      )
      .sort((a, b) => (a.shardId < b.shardId ? -1 : a.shardId > b.shardId ? 1 : 0));
  }
}
