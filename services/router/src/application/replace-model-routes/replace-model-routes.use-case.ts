import { validateModelRoutes, type RouteProblem } from '@spillway/model-routes';
import type { ModelRouteTable } from '../../domain/index.js';
import type { ModelRoutesSnapshot, ModelRoutesStore } from '../model-routes.port.js';

export interface ReplaceModelRoutesCommand {
  readonly table: ModelRouteTable;
  /** Replace only if this generation is in force; 0 replaces whatever is. */
  readonly expectedGeneration: number;
}

export type ReplaceModelRoutesResult =
  | { readonly kind: 'replaced'; readonly snapshot: ModelRoutesSnapshot }
  /** The table is refused; the one in force stays. */
  | { readonly kind: 'invalid'; readonly problems: readonly RouteProblem[] }
  | { readonly kind: 'stale-generation'; readonly expected: number; readonly current: number };

/**
 * An operator swaps the model routes (canary weights, shadow pool, rollback) without a SIGHUP. The
 * whole table is validated first and swapped in at once, so no turn ever routes on half an edit.
 * A bad table is refused here, before it goes anywhere, whatever the store: a replica's own table
 * or the shared one in the shard registry (which checks it again, with the same rules, for writers
 * other than routers).
 */
export class ReplaceModelRoutes {
  constructor(private readonly routes: ModelRoutesStore) {}

  async execute(command: ReplaceModelRoutesCommand): Promise<ReplaceModelRoutesResult> {
    const problems = validateModelRoutes(command.table);
    if (problems.length > 0) return { kind: 'invalid', problems };
    const swap = await this.routes.swap(command.table, command.expectedGeneration);
    switch (swap.kind) {
      case 'swapped':
        return { kind: 'replaced', snapshot: swap.snapshot };
      case 'stale-generation':
        return {
          kind: 'stale-generation',
          expected: command.expectedGeneration,
          current: swap.current,
        };
      default: {
        const unknown: never = swap;
        throw new Error(`unknown swap outcome ${JSON.stringify(unknown)}`);
      }
    }
  }
}
