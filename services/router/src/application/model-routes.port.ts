import type { ModelRouteTable } from '../domain/index.js';

/** The model → pools table currently in force; a rollback swaps it and the next turn follows. */
export interface ModelRoutesPort {
  current(): ModelRouteTable;
}

/** The table in force, as an operator sees it. */
export interface ModelRoutesSnapshot {
  readonly table: ModelRouteTable;
  /**
   * A replica's own table: increases with every table swapped in (start-up, reload, replace). The
   * shared table: the registry's generation, the same on every replica.
   */
  readonly generation: number;
  /** Where the table came from (the configured source, 'admin', or the shared table's state). */
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
   * has been validated by the caller. A shared table is written to where it is shared first, so
   * this may reject with a DomainError when that cannot be reached (nothing changed then).
   */
  swap(table: ModelRouteTable, expectedGeneration: number): Promise<ModelRoutesSwap>;
}

/** The model routes every replica shares, as the shard registry stores them. */
export interface SharedModelRoutes {
  readonly table: ModelRouteTable;
  /** 0: the registry holds no table yet. */
  readonly generation: number;
}

export interface SharedRoutesReplace {
  readonly applied: boolean;
  /** As stored after the call, whether or not this call changed it. */
  readonly current: SharedModelRoutes;
}

/** Where the shared table is written: the shard registry, with compare-and-set on generation. */
export interface SharedRoutesRegistry {
  replace(table: ModelRouteTable, expectedGeneration: number): Promise<SharedRoutesReplace>;
}
