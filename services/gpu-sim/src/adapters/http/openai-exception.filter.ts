import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { openAiError, writeHttpError } from './openai-error.js';

/** Every error that reaches Nest (unknown route, wrong method, a bug) answers in OpenAI's shape. */
@Catch()
export class OpenAiExceptionFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const res = reply.raw;
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const type =
        status === 404
          ? 'not_found_error'
          : status < 500
            ? 'invalid_request_error'
            : 'server_error';
      writeHttpError(res, openAiError(status, exception.message, type));
      return;
    }
    // A bug: say so without leaking internals.
    writeHttpError(res, openAiError(500, 'Internal error in gpu-sim.', 'server_error'));
  }
}
