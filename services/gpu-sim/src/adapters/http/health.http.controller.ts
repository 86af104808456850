import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Readiness } from '../../application/readiness.js';

@Controller()
export class HealthHttpController {
  constructor(@Inject(Readiness) private readonly readiness: Readiness) {}

  /** Like vLLM's /health: 200 with an empty body once the model is loaded; 503 before and while draining. */
  @Get('health')
  health(@Res() reply: FastifyReply): void {
    if (this.readiness.ready) {
      void reply.status(200).send('');
      return;
    }
    const status = this.readiness.isDraining ? 'draining' : 'loading';
    void reply.status(503).header('retry-after', '1').send({ status });
  }
}
