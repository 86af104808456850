import type { ModelRouteTable, WeightedPool } from '@spillway/model-routes';
import { unitHash } from '../prefix/hash53.js';

/**
 * Which pools serve a model name, and the rules a table must meet, come from @spillway/model-routes
 * (the shard registry stores the shared table and holds it to the same rules). Routing is the
 * router's: a pure function of (table, model, conversation), so every turn after a swap follows
 * the new table, and two replicas holding the same table send a conversation to the same pool.
 */
export type {
  ModelRoute,
  ModelRouteTable,
  RouteProblem,
  ShadowPool,
  WeightedPool,
} from '@spillway/model-routes';

export type ModelRouting =
  | {
      readonly kind: 'routed';
      readonly pool: string;
      /** The model's other pools with weight, best first: where to go when `pool` has no shard. */
      readonly fallbackPools: readonly string[];
      /** Set when this turn is sampled for the shadow pool. */
      readonly shadowPool?: string | undefined;
    }
  | { readonly kind: 'unknown-model'; readonly model: string };

const SPLIT_SEED = 0x5011;
const SHADOW_SEED = 0x5ad0;

/**
 * The conversation's pool: its hash is a point in [0, 1) laid over the pools' cumulative weights, so
 * a conversation stays in one pool for as long as the table does, and growing a pool's share moves
 * only the conversations in the grown slice. The shadow sample is keyed by the turn when given
 * (a sample of turns) and by the conversation otherwise.
 */
export function routeModel(
  table: ModelRouteTable,
  model: string,
  conversationId: string,
  turnId?: string,
): ModelRouting {
  const route = Object.hasOwn(table.models, model) ? table.models[model] : undefined;
  const live = route?.pools.filter((entry) => entry.weight > 0) ?? [];
  if (route === undefined || live.length === 0) return { kind: 'unknown-model', model };

  const total = live.reduce((sum, entry) => sum + entry.weight, 0);
  const point = unitHash(`${model}\u0000${conversationId}`, SPLIT_SEED) * total;
  let chosen = live[live.length - 1] as WeightedPool;
  let edge = 0;
  for (const entry of live) {
    edge += entry.weight;
    if (point < edge) {
      chosen = entry;
      break;
    }
  }
  const fallbackPools = live
    .filter((entry) => entry !== chosen)
    .sort((a, b) => b.weight - a.weight)
    .map((entry) => entry.pool);

  const shadow = route.shadow;
  const sampled =
    shadow !== undefined &&
    shadow.sampleRate > 0 &&
    unitHash(`${model}\u0000${turnId ?? conversationId}`, SHADOW_SEED) < shadow.sampleRate;
  return {
    kind: 'routed',
    pool: chosen.pool,
    fallbackPools,
    shadowPool: sampled ? shadow.pool : undefined,
  };
}
