import type { SharedModelRoutes } from '../../domain/model-routes.js';
import type { SharedRoutes } from '../model-routes/shared-routes.js';

/**
 * The shared routes in force, then every table that replaces them, in generation order. A router
 * replica routes on the last one it received, and after a restart (its own or the registry's)
 * starts over from the first message.
 */
export class WatchModelRoutesQuery {
  constructor(
    private readonly routes: SharedRoutes,
    private readonly maxBuffered: number,
  ) {}

  async *execute(signal: AbortSignal): AsyncGenerator<SharedModelRoutes, void, undefined> {
    const watch = this.routes.watch({ signal, maxBuffered: this.maxBuffered });
    try {
      let sent = watch.current;
      yield sent;
      for await (const routes of watch.changes) {
        // Published after the watch began but possibly before `current` was read.
        if (routes.generation <= sent.generation) continue;
        sent = routes;
        yield routes;
      }
    } finally {
      watch.changes.close();
    }
  }
}
