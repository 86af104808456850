import type { routerAdmin } from '@spillway/contracts';
import { DomainError } from '@spillway/errors';
import { ServerError, Status, type ServiceImplementation } from '@spillway/grpc';
import type { GetModelRoutes, ReplaceModelRoutes } from '../../application/index.js';
import {
  describeRouteProblem,
  fromProtoRouteTable,
  toProtoRouteTable,
  underField,
} from '@spillway/model-routes';

export interface RouterAdminUseCases {
  readonly getModelRoutes: GetModelRoutes;
  readonly replaceModelRoutes: ReplaceModelRoutes;
}

/** spillway.router.v1.RouterAdmin: translates messages and delegates to the use cases. */
export class RouterAdminGrpcController implements ServiceImplementation<
  typeof routerAdmin.RouterAdminDefinition
> {
  constructor(private readonly useCases: RouterAdminUseCases) {}

  async getModelRoutes(): Promise<routerAdmin.GetModelRoutesResponse> {
    const { table, generation, source } = this.useCases.getModelRoutes.execute();
    return { table: toProtoRouteTable(table), generation, source };
  }

  async replaceModelRoutes(
    request: routerAdmin.ReplaceModelRoutesRequest,
  ): Promise<routerAdmin.ReplaceModelRoutesResponse> {
    if (request.table === undefined) {
      throw new DomainError('REQUEST.INVALID', 'table: required; send the whole table to swap in', {
        details: { field: 'table' },
      });
    }
    const result = await this.useCases.replaceModelRoutes.execute({
      table: fromProtoRouteTable(request.table),
      expectedGeneration: request.expectedGeneration,
    });
    switch (result.kind) {
      case 'replaced':
        return {
          table: toProtoRouteTable(result.snapshot.table),
          generation: result.snapshot.generation,
        };
      case 'invalid': {
        const problems = underField('table', result.problems);
        throw new DomainError(
          'REQUEST.INVALID',
          `model routes not replaced: ${problems.map(describeRouteProblem).join('; ')}`,
          { details: { field: problems[0]?.field ?? 'table', problems: problems.length } },
        );
      }
      case 'stale-generation':
        // A concurrent edit, not a bad request: read the table again and retry on top of it.
        throw new ServerError(
          Status.ABORTED,
          `model routes not replaced: generation ${result.current} is in force, not ${result.expected}; get the routes again and retry`,
        );
      default: {
        const unknown: never = result;
        throw new Error(`unknown outcome ${JSON.stringify(unknown)}`);
      }
    }
  }
}
