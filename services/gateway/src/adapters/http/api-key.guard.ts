import {
  type CanActivate,
  createParamDecorator,
  type ExecutionContext,
  Inject,
  Injectable,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AuthenticateApiKey } from '../../application/authenticate/authenticate-api-key.use-case.js';
import { type Tenant } from '../../domain/tenant.js';

const tenants = new WeakMap<FastifyRequest, Tenant>();

/** Resolves `Authorization: Bearer <key>` to a tenant before anything else looks at the request. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(@Inject(AuthenticateApiKey) private readonly authenticate: AuthenticateApiKey) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    tenants.set(request, await this.authenticate.execute(request.headers.authorization));
    return true;
  }
}

/** The tenant ApiKeyGuard resolved for this request. */
export const AuthenticatedTenant = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Tenant => {
    const tenant = tenants.get(context.switchToHttp().getRequest<FastifyRequest>());
    if (!tenant) throw new Error('AuthenticatedTenant used on a route without ApiKeyGuard');
    return tenant;
  },
);
