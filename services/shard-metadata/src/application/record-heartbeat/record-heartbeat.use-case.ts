import type { ShardLoad, ShardState } from '../../domain/shard.js';
import { checkId } from '../../domain/validation.js';
import { requireShard } from '../registry/require-shard.js';
import type { ShardRegistry } from '../registry/shard-registry.js';

export interface Heartbeat {
  readonly shardId: string;
  readonly load: ShardLoad | undefined;
  readonly ready: boolean;
  /** The shard itself started draining (SIGTERM, an operator on the host): no new turns. */
  readonly draining?: boolean;
}

/** Records a sign of life and the shard's load; the first heartbeat that says ready makes it READY. */
export class RecordHeartbeatUseCase {
  constructor(private readonly registry: ShardRegistry) {}

  async execute(heartbeat: Heartbeat): Promise<ShardState> {
    const problem = checkId('shard_id', heartbeat.shardId);
    if (problem) throw problem;
    const { draining = false, ...sign } = heartbeat;
    let shard = await this.registry.execute(heartbeat.shardId, (nowMs) => ({
      kind: 'RecordHeartbeat',
      ...sign,
      nowMs,
    }));
    if (draining && (shard?.state === 'starting' || shard?.state === 'ready')) {
      shard = await this.registry.execute(heartbeat.shardId, (nowMs) => ({
        kind: 'DrainShard',
        shardId: heartbeat.shardId,
        reason: 'the shard reported that it is draining',
        nowMs,
      }));
    }
    return requireShard(shard, heartbeat.shardId).state;
  }
}
