import type { routerAdmin } from '@spillway/contracts';
import type { ModelRoute, ModelRouteTable } from '../../domain/index.js';

/** Translations between spillway.router.v1 and the router's model routes. */
export function fromProtoTable(table: routerAdmin.ModelRouteTable): ModelRouteTable {
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

export function toProtoTable(table: ModelRouteTable): routerAdmin.ModelRouteTable {
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
