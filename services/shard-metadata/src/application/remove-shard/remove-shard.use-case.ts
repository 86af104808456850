import type { Shard } from '../../domain/shard.js';
import { checkId, checkText } from '../../domain/validation.js';
import { requireShard } from '../registry/require-shard.js';
import type { ShardRegistry } from '../registry/shard-registry.js';

/** Takes the shard out of service for good (until it registers again). Idempotent. */
export class RemoveShardUseCase {
  constructor(private readonly registry: ShardRegistry) {}

  async execute(shardId: string, reason: string): Promise<Shard> {
    const problem = checkId('shard_id', shardId) ?? checkText('reason', reason);
    if (problem) throw problem;
    const shard = await this.registry.execute(shardId, (nowMs) => ({
      kind: 'RemoveShard',
      shardId,
      reason,
      nowMs,
    }));
    return requireShard(shard, shardId);
  }
}
