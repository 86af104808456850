import type { ModelRoutesSnapshot, ModelRoutesStore } from '../model-routes.port.js';

/** The table in force, its generation and where it came from. */
export class GetModelRoutes {
  constructor(private readonly routes: ModelRoutesStore) {}

  execute(): ModelRoutesSnapshot {
    return this.routes.snapshot();
  }
}
