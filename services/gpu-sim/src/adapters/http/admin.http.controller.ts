import { Body, Controller, Get, HttpCode, Inject, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { EngineLoop } from '../../application/engine-loop.js';
import { FaultState, faultSchema } from '../../application/faults.js';
import { invalidRequest } from './openai-error.js';
import { InvalidJsonBody } from './json-body.js';
import { sendError } from './run-generation.js';

/** Test-only controls: fault injection and a view of the engine's state. */
@Controller('admin')
export class AdminHttpController {
  constructor(
    @Inject(FaultState) private readonly faults: FaultState,
    @Inject(EngineLoop) private readonly loop: EngineLoop,
  ) {}

  @Get('faults')
  current(): unknown {
    return { fault: this.faults.fault };
  }

  @Post('faults')
  @HttpCode(200)
  set(@Body() body: unknown, @Res() reply: FastifyReply): void {
    if (body instanceof InvalidJsonBody)
      return sendError(
        reply,
        invalidRequest(null, `The request body is not valid JSON: ${body.reason}`),
      );
    const parsed = faultSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const param = issue?.path.join('.') || 'mode';
      return sendError(
        reply,
        invalidRequest(param, `Invalid value for '${param}': ${issue?.message ?? 'invalid'}`),
      );
    }
    this.faults.set(parsed.data);
    void reply.status(200).send({ fault: parsed.data });
  }

  @Get('state')
  state(): unknown {
    const engine = this.loop.engine;
    return {
      simulatedNowMs: this.loop.simulatedNowMs(),
      timeScale: this.loop.timeScale,
      running: engine.numRunning,
      waiting: engine.numWaiting,
      kvCache: {
        usage: engine.pool.usage,
        usedBlocks: engine.pool.usedBlocks,
        numBlocks: engine.pool.numBlocks,
        cachedBlocks: engine.pool.cachedBlocks,
        evictedBlocks: engine.pool.evictedBlocks,
      },
      counters: engine.counters,
      fault: this.faults.fault,
    };
  }
}
