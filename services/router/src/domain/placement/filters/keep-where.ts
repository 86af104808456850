import type { ShardView } from '../shard-view.js';

/**
 * The shards for which `keep` holds, without copying when all of them do (the common case:
 * candidates are mostly drawn from READY shards of the turn's pools and zone already). Filters run
 * on every decision, so the copy is made only once a shard is actually dropped.
 */
export function keepWhere<C>(
  shards: readonly ShardView[],
  context: C,
  keep: (shard: ShardView, context: C) => boolean,
): readonly ShardView[] {
  let i = 0;
  while (i < shards.length && keep(shards[i] as ShardView, context)) i++;
  if (i === shards.length) return shards;
  const kept = shards.slice(0, i);
  for (i++; i < shards.length; i++) {
    const shard = shards[i] as ShardView;
    if (keep(shard, context)) kept.push(shard);
  }
  return kept;
}
