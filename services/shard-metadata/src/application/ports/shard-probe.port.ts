import type { Shard, ShardLoad } from '../../domain/shard.js';

/** What a shard said when the registry asked it directly. */
export type ProbeAnswer =
  /** The shard's adapter answered as this shard, with its engine ready. */
  | { readonly kind: 'serving'; readonly load: ShardLoad | undefined }
  /** No answer in time, another shard's answer, or an engine that is not ready. */
  | { readonly kind: 'not-serving'; readonly reason: string };

/**
 * Asks a shard directly whether it still serves (the inference adapter's GetLoad), for a shard that
 * missed its heartbeats: a shard that is only slow to beat (CPU starvation in a burst, a heartbeat
 * stuck behind other traffic) answers, a dead or hung one does not.
 */
export interface ShardProbe {
  /** Answers within its own timeout; never throws. */
  probe(shard: Shard): Promise<ProbeAnswer>;
}
