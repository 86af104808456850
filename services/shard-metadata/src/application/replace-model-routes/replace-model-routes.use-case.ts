import { underField, validateModelRoutes } from '@spillway/model-routes';
import { refusedModelRoutes, type ReplaceModelRoutes } from '../../domain/model-routes.js';
import type { SharedRoutes } from '../model-routes/shared-routes.js';
import type { ReplaceModelRoutesResult } from '../ports/model-routes.repository.port.js';

/**
 * Replaces the shared model routes if nobody replaced them since the caller read them. The table
 * is checked against the routing rules here, whoever wrote it: a router validates before it
 * writes through, but the registry is what every replica follows, so it never stores a table a
 * router would refuse. Losing the race is an answer (applied=false with the routes stored), not
 * an error.
 */
export class ReplaceModelRoutesUseCase {
  constructor(private readonly routes: SharedRoutes) {}

  async execute(request: ReplaceModelRoutes): Promise<ReplaceModelRoutesResult> {
    const problems = validateModelRoutes(request.table);
    if (problems.length > 0) throw refusedModelRoutes(underField('table', problems));
    return this.routes.compareAndSet(request);
  }
}
