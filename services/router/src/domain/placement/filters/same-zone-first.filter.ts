import type { Filter, PlacementContext } from '../policy.js';
import type { ShardView } from '../shard-view.js';
import { keepWhere } from './keep-where.js';

/** Soft: keeps the shards in the caller's zone if there are any, otherwise all of them. */
export const sameZoneFirstFilter: Filter = {
  name: 'same-zone-first',
  filter: (shards, context) => {
    const zone = context.request.zone;
    if (zone === undefined || zone === '') return shards;
    const near = keepWhere(shards, context, isInCallerZone);
    return near.length > 0 ? near : shards;
  },
};

function isInCallerZone(shard: ShardView, context: PlacementContext): boolean {
  return shard.zone === context.request.zone;
}
