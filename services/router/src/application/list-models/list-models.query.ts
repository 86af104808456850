import type { ModelRoutesPort } from '../model-routes.port.js';

export interface ModelInfo {
  readonly id: string;
  readonly ownedBy: string;
  readonly createdAtMs: number;
}

/** The model names the router routes (the keys of the model route table in force). */
export class ListModels {
  constructor(
    private readonly routes: ModelRoutesPort,
    private readonly startedAtMs: number,
  ) {}

  execute(): ModelInfo[] {
    return Object.entries(this.routes.current().models)
      .filter(([, route]) => route.pools.some((pool) => pool.weight > 0))
      .map(([id]) => ({ id, ownedBy: 'spillway', createdAtMs: this.startedAtMs }))
      .sort((a, b) => a.id.localeCompare(b.id));
  }
}
