import type { ReplaceModelRoutes, SharedModelRoutes } from '../../domain/model-routes.js';

export interface ReplaceModelRoutesResult {
  readonly applied: boolean;
  /** As stored once the call returned, whether or not this call changed it. */
  readonly current: SharedModelRoutes;
}

/** Where the shared model routes are stored. Implementations apply compare-and-set atomically. */
export interface ModelRoutesRepository {
  /** The stored routes; NO_SHARED_ROUTES when none have been stored. */
  load(): Promise<SharedModelRoutes>;
  compareAndSet(request: ReplaceModelRoutes, nowMs: number): Promise<ReplaceModelRoutesResult>;
}
