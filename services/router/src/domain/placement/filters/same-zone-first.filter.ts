import type { Filter } from '../policy.js';

/** Soft: keeps the shards in the caller's zone if there are any, otherwise all of them. */
export const sameZoneFirstFilter: Filter = {
  name: 'same-zone-first',
  filter: (shards, context) => {
    const zone = context.request.zone;
    if (zone === undefined || zone === '') return shards;
    const near = shards.filter((shard) => shard.zone === zone);
    return near.length > 0 ? near : shards;
  },
};
