import { unitHash } from '../prefix/hash53.js';

/**
 * Which pools serve a model name: plain configuration data. A canary is a second pool with a small
 * weight; a ramp raises it; a rollback sets it to 0. The router swaps the whole table at once and
 * every later turn follows it, because routing is a pure function of (table, model, conversation).
 */
export interface WeightedPool {
  readonly pool: string;
  readonly weight: number;
}

export interface ShadowPool {
  readonly pool: string;
  /** Fraction of turns copied to the shadow pool, 0..1; its replies are compared, never returned. */
  readonly sampleRate: number;
}

export interface ModelRoute {
  /** Keep the order stable across edits: a ramp then moves only the conversations it must. */
  readonly pools: readonly WeightedPool[];
  readonly shadow?: ShadowPool | undefined;
}

export interface ModelRouteTable {
  readonly models: Readonly<Record<string, ModelRoute>>;
}

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

/**
 * One thing wrong with a table: the field, as a path in the table's JSON form
 * (`models["llama"].pools[1].weight`), and what is wrong with it and how to fix it.
 */
export interface RouteProblem {
  readonly field: string;
  readonly problem: string;
}

export function describeRouteProblem({ field, problem }: RouteProblem): string {
  return `${field}: ${problem}`;
}

/** What is wrong with a table, one entry per problem; empty when it may be swapped in. */
export function validateModelRoutes(table: ModelRouteTable): RouteProblem[] {
  const problems: RouteProblem[] = [];
  for (const [model, route] of Object.entries(table.models)) {
    const at = `models[${JSON.stringify(model)}]`;
    if (model === '') problems.push({ field: at, problem: 'a model name cannot be empty' });
    if (route.pools.length === 0)
      problems.push({ field: `${at}.pools`, problem: 'list at least one pool' });
    const seen = new Set<string>();
    let total = 0;
    route.pools.forEach(({ pool, weight }, index) => {
      const entry = `${at}.pools[${index}]`;
      if (pool === '')
        problems.push({ field: `${entry}.pool`, problem: 'a pool name cannot be empty' });
      else if (seen.has(pool))
        problems.push({ field: `${entry}.pool`, problem: `${pool} is listed twice` });
      seen.add(pool);
      if (!Number.isFinite(weight) || weight < 0)
        problems.push({ field: `${entry}.weight`, problem: `${weight}; use a number >= 0` });
      else total += weight;
    });
    if (route.pools.length > 0 && total <= 0)
      problems.push({ field: `${at}.pools`, problem: 'no pool has a positive weight' });
    const shadow = route.shadow;
    if (shadow !== undefined) {
      if (!(shadow.sampleRate >= 0 && shadow.sampleRate <= 1)) {
        problems.push({
          field: `${at}.shadow.sampleRate`,
          problem: `${shadow.sampleRate} is outside 0..1`,
        });
      }
      if (shadow.pool === '')
        problems.push({ field: `${at}.shadow.pool`, problem: 'a pool name cannot be empty' });
      else if (seen.has(shadow.pool))
        problems.push({
          field: `${at}.shadow.pool`,
          problem: `${shadow.pool} also serves replies; shadow a pool outside pools`,
        });
    }
  }
  return problems;
}
