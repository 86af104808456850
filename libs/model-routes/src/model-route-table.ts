/**
 * Which pools serve a model name: plain configuration data. A canary is a second pool with a small
 * weight; a ramp raises it; a rollback sets it to 0. The router routes on it (a pure function of
 * table, model and conversation); the shard registry stores the one every router replica shares.
 *
 * The rules a table must meet live here, once, because two services apply them: the router to a
 * table it is given (MODEL_ROUTES, the routes file, RouterAdmin.ReplaceModelRoutes) and the
 * registry to a table written to it, by a router or by any other client. The registry refuses a
 * bad table rather than storing what a caller says it validated: it is the authority every replica
 * follows, so a table that reaches it from an older router or straight from an operator's tool is
 * held to the same rules.
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

/** The same problems with their fields under `prefix` (e.g. `table` for a request's field). */
export function underField(prefix: string, problems: readonly RouteProblem[]): RouteProblem[] {
  return problems.map((problem) => ({ ...problem, field: `${prefix}.${problem.field}` }));
}

/** What is wrong with a table, one entry per problem; empty when it may be put in force. */
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

/** `model` served by pool `stable` and pool `canary` at these weights: a canary split. */
export function canarySplit(model: string, stable: number, canary: number): ModelRouteTable {
  return {
    models: {
      [model]: {
        pools: [
          { pool: 'stable', weight: stable },
          { pool: 'canary', weight: canary },
        ],
      },
    },
  };
}
