import type { SharedModelRoutes } from '../../domain/model-routes.js';
import type { SharedRoutes } from '../model-routes/shared-routes.js';

/** Served from memory. */
export class GetModelRoutesQuery {
  constructor(private readonly routes: SharedRoutes) {}

  execute(): SharedModelRoutes {
    return this.routes.current();
  }
}
