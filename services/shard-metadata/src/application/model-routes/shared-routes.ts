import {
  NO_SHARED_ROUTES,
  supersedes,
  type ReplaceModelRoutes,
  type SharedModelRoutes,
} from '../../domain/model-routes.js';
import type {
  ChangeFeed,
  ChangeSubscription,
  ChangeSubscriptionOptions,
} from '../ports/change-feed.port.js';
import type { Clock } from '../ports/clock.port.js';
import type {
  ModelRoutesRepository,
  ReplaceModelRoutesResult,
} from '../ports/model-routes.repository.port.js';

export interface SharedRoutesWatch {
  /** The routes in force when the watch began. */
  readonly current: SharedModelRoutes;
  /** Every table stored after the watch began. */
  readonly changes: ChangeSubscription<SharedModelRoutes>;
}

/**
 * The shared model routes: authoritative in PostgreSQL, served from memory, as the assignment map
 * is. Memory follows committed writes only and its generation never goes backwards, so two
 * replaces answered out of order leave the newer one in force.
 */
export class SharedRoutes {
  private held: SharedModelRoutes = NO_SHARED_ROUTES;

  constructor(
    private readonly repository: ModelRoutesRepository,
    private readonly clock: Clock,
    private readonly feed: ChangeFeed<SharedModelRoutes>,
  ) {}

  /** Loads the stored routes. Call once, before serving. */
  async load(): Promise<SharedModelRoutes> {
    this.held = await this.repository.load();
    return this.held;
  }

  current(): SharedModelRoutes {
    return this.held;
  }

  /** The table has been validated by the caller. */
  async compareAndSet(request: ReplaceModelRoutes): Promise<ReplaceModelRoutesResult> {
    const result = await this.repository.compareAndSet(request, this.clock.nowMs());
    // A lost race still tells us the stored truth, which may be newer than memory.
    this.accept(result.current);
    return result;
  }

  /** Subscribes first, then reads, so no table falls between the first message and the feed. */
  watch(options: ChangeSubscriptionOptions): SharedRoutesWatch {
    const changes = this.feed.subscribe(options);
    return { current: this.held, changes };
  }

  private accept(routes: SharedModelRoutes): void {
    if (!supersedes(routes, this.held)) return;
    this.held = routes;
    this.feed.publish(routes);
  }
}
