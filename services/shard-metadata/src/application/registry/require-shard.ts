import type { Shard } from '../../domain/shard.js';

/** For commands that always leave a shard behind (their refusals throw). */
export function requireShard(shard: Shard | undefined, shardId: string): Shard {
  if (shard === undefined)
    throw new Error(`shard ${shardId} is missing after a command that must leave it registered`);
  return shard;
}
