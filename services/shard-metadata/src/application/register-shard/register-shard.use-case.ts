import type { Shard, ShardSpec } from '../../domain/shard.js';
import { validateShardSpec } from '../../domain/validation.js';
import { requireShard } from '../registry/require-shard.js';
import type { ShardRegistry } from '../registry/shard-registry.js';

export interface RegisterShardResult {
  readonly shard: Shard;
  /** How often the registry expects heartbeats. */
  readonly heartbeatIntervalMs: number;
}

/** Idempotent by shard id; a failed or removed shard that registers again starts over. */
export class RegisterShardUseCase {
  constructor(
    private readonly registry: ShardRegistry,
    private readonly heartbeatIntervalMs: number,
  ) {}

  async execute(spec: ShardSpec): Promise<RegisterShardResult> {
    const problem = validateShardSpec(spec);
    if (problem) throw problem;
    const shard = await this.registry.execute(spec.shardId, (nowMs) => ({
      kind: 'RegisterShard',
      spec,
      nowMs,
    }));
    return {
      shard: requireShard(shard, spec.shardId),
      heartbeatIntervalMs: this.heartbeatIntervalMs,
    };
  }
}
