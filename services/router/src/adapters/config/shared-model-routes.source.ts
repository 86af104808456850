import type {
  LogPort,
  ModelRoutesSnapshot,
  ModelRoutesStore,
  ModelRoutesSwap,
  SharedModelRoutes,
  SharedRoutesRegistry,
  ShardLifecycleObserver,
  ShardStateChange,
} from '../../application/index.js';
import {
  deriveModelRoutes,
  type ModelRouteTable,
  type ShardDirectory,
} from '../../domain/index.js';
import type { ReloadOutcome } from './model-routes.source.js';

/** Where this replica stands with the registry's watch. */
type Link = 'not-yet' | 'following' | 'lost';

const NONE: SharedModelRoutes = { table: { models: {} }, generation: 0 };

/**
 * The model routes every replica shares, stored in the shard registry (MODEL_ROUTES_SOURCE
 * registry, the default when the router is given no table of its own). The registry's
 * WatchModelRoutes feeds `follow()`; a replace through the admin API is written to the registry
 * with compare-and-set on the shared generation, so an operator's rollback through any replica is
 * in force on this one at once and on the others as their watches deliver it.
 *
 * The last table received stays in force while the registry is away (its restart, a network
 * split): a router never drops to an empty table for losing its registry, and says so in its log
 * and its snapshot's source. Until the registry holds a table (generation 0) every replica derives
 * one from the pools the shards serve, as a router without configuration always did.
 */
export class SharedModelRoutesSource implements ModelRoutesStore, ShardLifecycleObserver {
  private held: SharedModelRoutes = NONE;
  private link: Link = 'not-yet';
  private derived: ModelRouteTable | undefined;

  constructor(
    private readonly registry: SharedRoutesRegistry,
    private readonly shards: ShardDirectory,
    private readonly log: LogPort,
  ) {}

  /**
   * A table from the registry's watch. The first message of a watch is the registry's truth and
   * is taken as it is (a generation lower than the one held means the registry's store went back,
   * and it is still the authority); later ones only when newer.
   */
  follow(routes: SharedModelRoutes, first: boolean): void {
    if (first) {
      if (this.link === 'lost')
        this.log.info('model routes: following the shard registry again', {
          generation: routes.generation,
        });
      this.link = 'following';
      if (routes.generation < this.held.generation) {
        this.log.warn('model routes: the shard registry holds an older generation; following it', {
          held: this.held.generation,
          generation: routes.generation,
        });
      }
      if (routes.generation !== this.held.generation) this.accept(routes);
      else this.held = routes;
      return;
    }
    if (routes.generation > this.held.generation) this.accept(routes);
  }

  /** The watch broke: keep routing on the table held, and say so. */
  registryLost(reason: string): void {
    if (this.link === 'lost') return;
    this.link = 'lost';
    this.log.warn(
      'model routes: the shard registry is unreachable; routing on the last table it sent',
      { generation: this.held.generation, reason },
    );
  }

  current(): ModelRouteTable {
    if (this.held.generation > 0) return this.held.table;
    this.derived ??= deriveModelRoutes(this.shards);
    return this.derived;
  }

  snapshot(): ModelRoutesSnapshot {
    return { table: this.current(), generation: this.held.generation, source: this.source() };
  }

  async swap(table: ModelRouteTable, expectedGeneration: number): Promise<ModelRoutesSwap> {
    const { applied, current } = await this.registry.replace(table, expectedGeneration);
    // Stored either way: this replica need not wait for its watch to route on it.
    if (current.generation > this.held.generation) this.accept(current);
    if (!applied) return { kind: 'stale-generation', current: current.generation };
    const snapshot = {
      table: current.table,
      generation: current.generation,
      source: this.source(),
    };
    return { kind: 'swapped', snapshot };
  }

  /** SIGHUP: nothing to re-read, the registry pushes every change. */
  reload(): ReloadOutcome {
    this.log.info('model routes reloaded: they follow the shard registry, nothing to re-read', {
      source: this.source(),
      generation: this.held.generation,
    });
    return { ok: true, table: this.current(), generation: this.held.generation };
  }

  shardChanged(_change: ShardStateChange): void {
    this.derived = undefined;
  }

  private accept(routes: SharedModelRoutes): void {
    this.held = routes;
    this.log.info('model routes replaced', {
      source: 'the shard registry',
      generation: routes.generation,
      models: Object.keys(routes.table.models).join(','),
    });
  }

  private source(): string {
    const link =
      this.link === 'following'
        ? 'shared, following the shard registry'
        : this.link === 'lost'
          ? 'shared; the shard registry is unreachable, routing on the last table it sent'
          : 'shared; the shard registry has not answered yet';
    return this.held.generation === 0
      ? `${link}; no table stored there, derived from the pools the shards serve`
      : link;
  }
}
