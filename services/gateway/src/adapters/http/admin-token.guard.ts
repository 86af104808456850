import { timingSafeEqual } from 'node:crypto';
import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  NotFoundException,
} from '@nestjs/common';
import { DomainError } from '@spillway/errors';
import type { FastifyRequest } from 'fastify';
import { bearerToken } from '../../domain/api-key.js';

export const ADMIN_TOKEN = Symbol('ADMIN_TOKEN');

/** `/admin/v1/*` needs the operator's token; without a configured token the routes do not exist. */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  constructor(@Inject(ADMIN_TOKEN) private readonly adminToken: string) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (this.adminToken === '')
      throw new NotFoundException(`Cannot ${request.method} ${request.url.split('?')[0] ?? ''}`);
    const token = bearerToken(request.headers.authorization) ?? '';
    const given = Buffer.from(token);
    const expected = Buffer.from(this.adminToken);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new DomainError('AUTH.UNAUTHENTICATED', 'Missing or wrong admin token.', {
        details: { reason: 'invalid_admin_token' },
      });
    }
    return true;
  }
}
