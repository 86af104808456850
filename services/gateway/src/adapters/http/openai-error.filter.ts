import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { type Log } from '../../application/ports/system.port.js';
import { toHttpError } from './http-errors.js';

/**
 * Every refusal leaves in OpenAI's error shape, whether a use case, a guard, Nest's router or
 * Fastify's body parser raised it. Unexpected errors are logged here and never shown.
 */
@Catch()
export class OpenAiErrorFilter implements ExceptionFilter {
  constructor(
    private readonly bodyLimitBytes: number,
    private readonly log: Log,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const error = toHttpError(exception, this.bodyLimitBytes);
    if (error.status >= 500) {
      this.log.warn('gateway: request failed', {
        status: error.status,
        error:
          exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
      });
    }
    if (reply.sent || reply.raw.headersSent) return;
    void reply.status(error.status).headers(error.headers).send(error.body);
  }
}
