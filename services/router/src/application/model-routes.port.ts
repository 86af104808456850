import type { ModelRouteTable } from '../domain/index.js';

/** The model → pools table currently in force; a rollback swaps it and the next turn follows. */
export interface ModelRoutesPort {
  current(): ModelRouteTable;
}
