import type { SharedModelRoutesSource } from '../config/shared-model-routes.source.js';
import { fromProtoRouteTable } from '@spillway/model-routes';
import { WATCH_DEADLINE_MS, type RegistryClient } from './registry-client.js';

/**
 * Keeps the shared model routes current from the registry's WatchModelRoutes: the table in force,
 * then every table that replaces it. When the stream breaks the routes are told, and keep the
 * table they hold; the watch loop opens a new stream, whose first message is the registry's truth.
 */
export class ModelRoutesWatchConsumer {
  constructor(
    private readonly client: RegistryClient,
    private readonly routes: SharedModelRoutesSource,
  ) {}

  readonly consume = async (signal: AbortSignal, healthy: () => void): Promise<void> => {
    let first = true;
    try {
      const stream = this.client.watchModelRoutes({}, { signal, deadline: WATCH_DEADLINE_MS });
      for await (const { routes } of stream) {
        if (routes === undefined) continue;
        this.routes.follow(
          {
            table: fromProtoRouteTable(routes.table ?? { models: {} }),
            generation: routes.generation,
          },
          first,
        );
        if (first) healthy();
        first = false;
      }
      if (!signal.aborted) this.routes.registryLost('the watch ended');
    } catch (error) {
      if (!signal.aborted)
        this.routes.registryLost(error instanceof Error ? error.message : String(error));
      throw error;
    }
  };
}
