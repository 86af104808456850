import type { common } from '@spillway/contracts';
import type { ShardRuntime } from '../shard-runtime.js';

export interface ShardLoadView {
  readonly shardId: string;
  readonly load: common.ShardLoad;
  readonly draining: boolean;
  readonly ready: boolean;
}

/** The shard's load as of now: the last engine scrape plus the adapter's live counts. */
export class GetLoad {
  constructor(private readonly runtime: ShardRuntime) {}

  execute(): ShardLoadView {
    return {
      shardId: this.runtime.shardId,
      load: this.runtime.currentLoad(),
      draining: this.runtime.draining,
      ready: this.runtime.engineHealth.ready,
    };
  }
}
