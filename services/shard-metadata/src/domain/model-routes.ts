import { DomainError } from '@spillway/errors';
import type { ModelRouteTable, RouteProblem } from '@spillway/model-routes';

/**
 * The model routes every router replica that follows the registry routes on: one table for the
 * fleet, so a conversation gets the same pool whichever replica places its turn, and a rollback
 * written through any replica is the rollback of all of them. The rules a table must meet are
 * @spillway/model-routes' (the router applies the same ones); the registry applies them to every
 * table written to it.
 */
export interface SharedModelRoutes {
  readonly table: ModelRouteTable;
  /** 0: nothing stored yet. Grows by one with every replace, across restarts (it is stored). */
  readonly generation: number;
  readonly updatedAtMs: number;
  /** Who replaced it and through what, as the writer said. */
  readonly reason: string;
}

export const NO_SHARED_ROUTES: SharedModelRoutes = {
  table: { models: {} },
  generation: 0,
  updatedAtMs: 0,
  reason: '',
};

export interface ReplaceModelRoutes {
  readonly table: ModelRouteTable;
  /** Replace only if this generation is stored; 0 replaces whatever is. */
  readonly expectedGeneration: number;
  readonly reason: string;
}

/** Whether `candidate` replaces `held`: generations only move forward. */
export function supersedes(candidate: SharedModelRoutes, held: SharedModelRoutes): boolean {
  return candidate.generation > held.generation;
}

/** REQUEST.INVALID naming every problem, with the first one's field (problems are non-empty). */
export function refusedModelRoutes(problems: readonly RouteProblem[]): DomainError {
  const listed = problems.map(({ field, problem }) => `${field}: ${problem}`).join('; ');
  return new DomainError('REQUEST.INVALID', `model routes not replaced: ${listed}`, {
    details: { field: problems[0]?.field ?? 'table', problems: problems.length },
  });
}
