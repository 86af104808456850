import type { Shard } from '../../domain/shard.js';
import { checkId, checkText } from '../../domain/validation.js';
import { requireShard } from '../registry/require-shard.js';
import type { ShardRegistry } from '../registry/shard-registry.js';

/** The shard finishes what it has and takes no new turns; its conversations are migrated elsewhere. */
export class DrainShardUseCase {
  constructor(private readonly registry: ShardRegistry) {}

  async execute(shardId: string, reason: string): Promise<Shard> {
    const problem = checkId('shard_id', shardId) ?? checkText('reason', reason);
    if (problem) throw problem;
    const shard = await this.registry.execute(shardId, (nowMs) => ({
      kind: 'DrainShard',
      shardId,
      reason,
      nowMs,
    }));
    return requireShard(shard, shardId);
  }
}
