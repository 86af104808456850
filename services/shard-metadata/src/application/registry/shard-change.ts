import type { Shard } from '../../domain/shard.js';

/** One applied change to the registry, as watchers receive it. */
export type ShardChange =
  | {
      readonly kind: 'upserted';
      readonly shard: Shard;
      /** The pool before this change, when the shard existed and moved pools. */
      readonly previousPool: string | undefined;
      /** False when only load and heartbeat time changed. */
      readonly lifecycle: boolean;
    }
  | { readonly kind: 'removed'; readonly shard: Shard };
