import type { ModelRouteTable } from '../domain/index.js';

/** The model → pools table currently in force; a rollback swaps it and the next turn follows. */
export interface ModelRoutesPort {
  current(): ModelRouteTable;
}

/** The table in force, as an operator sees it. */
export interface ModelRoutesSnapshot {
  readonly table: ModelRouteTable;
  /** Increases with every table swapped in (start-up, reload, replace). */
  readonly generation: number;
  /** Where the table came from (the configured source, or 'admin'). */
  readonly source: string;
}

export type ModelRoutesSwap =
  | { readonly kind: 'swapped'; readonly snapshot: ModelRoutesSnapshot }
  /** The table in force is not the generation the caller read: nothing changed. */
  | { readonly kind: 'stale-generation'; readonly current: number };

/** Where an operator reads and replaces the table (the router admin API). */
export interface ModelRoutesStore extends ModelRoutesPort {
  snapshot(): ModelRoutesSnapshot;
  /**
   * Swaps `table` in whole, if the generation in force is `expectedGeneration` (0: any). The table
   * has been validated by the caller.
   */
  swap(table: ModelRouteTable, expectedGeneration: number): ModelRoutesSwap;
}
