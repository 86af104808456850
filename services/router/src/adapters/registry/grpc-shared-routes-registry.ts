import { hostname } from 'node:os';
import { DomainError, isDomainError } from '@spillway/errors';
import type { SharedRoutesRegistry, SharedRoutesReplace } from '../../application/index.js';
import type { ModelRouteTable } from '../../domain/index.js';
import { fromProtoRouteTable, toProtoRouteTable } from '@spillway/model-routes';
import type { RegistryClient } from './registry-client.js';

/**
 * Writes the shared model routes to the shard registry (ReplaceModelRoutes, compare-and-set on
 * its generation). The registry checks the table with the same rules as the router and answers a
 * stale generation with applied=false. A registry it cannot reach is DEPENDENCY.UNAVAILABLE
 * (UNAVAILABLE to the operator): nothing was replaced, retry.
 */
export class GrpcSharedRoutesRegistry implements SharedRoutesRegistry {
  private readonly reason = `RouterAdmin.ReplaceModelRoutes on router ${hostname()} pid ${process.pid}`;

  constructor(private readonly client: RegistryClient) {}

  async replace(table: ModelRouteTable, expectedGeneration: number): Promise<SharedRoutesReplace> {
    try {
      const { applied, current } = await this.client.replaceModelRoutes({
        table: toProtoRouteTable(table),
        expectedGeneration,
        reason: this.reason,
      });
      return {
        applied,
        current: {
          table: fromProtoRouteTable(current?.table ?? { models: {} }),
          generation: current?.generation ?? 0,
        },
      };
    } catch (error) {
      if (isDomainError(error) && error.code === 'DEPENDENCY.UNAVAILABLE') {
        throw new DomainError(
          'DEPENDENCY.UNAVAILABLE',
          `model routes not replaced: the shard registry, which holds the table every replica shares, cannot be reached (${error.message}); retry`,
          { cause: error, retryAfterSeconds: 1 },
        );
      }
      throw error;
    }
  }
}
