import type { common } from '@spillway/contracts';

export const LOAD_PUBLISHER_PORT = Symbol('LoadPublisherPort');

export interface LoadPublisherPort {
  /** Publishes one ShardLoadReported event, keyed by shard id. */
  publish(shardId: string, pool: string, load: common.ShardLoad): Promise<void>;
}
