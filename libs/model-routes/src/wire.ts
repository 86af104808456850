import type { routerAdmin } from '@spillway/contracts';
import type { ModelRoute, ModelRouteTable } from './model-route-table.js';

/**
 * The table on the wire (`spillway.router.v1.ModelRouteTable`, which the router's admin API and the
 * shard registry's both carry) and back. An absent shadow pool stays absent both ways.
 */
export function fromProtoRouteTable(table: routerAdmin.ModelRouteTable): ModelRouteTable {
  const models: Record<string, ModelRoute> = {};
  for (const [model, route] of Object.entries(table.models)) {
    models[model] = {
      pools: route.pools.map(({ pool, weight }) => ({ pool, weight })),
      ...(route.shadow === undefined
        ? {}
        : { shadow: { pool: route.shadow.pool, sampleRate: route.shadow.sampleRate } }),
    };
  }
  return { models };
}

export function toProtoRouteTable(table: ModelRouteTable): routerAdmin.ModelRouteTable {
  const models: Record<string, routerAdmin.ModelRoute> = {};
  for (const [model, route] of Object.entries(table.models)) {
    models[model] = {
      pools: route.pools.map(({ pool, weight }) => ({ pool, weight })),
      shadow:
        route.shadow === undefined
          ? undefined
          : { pool: route.shadow.pool, sampleRate: route.shadow.sampleRate },
    };
  }
  return { models };
}
