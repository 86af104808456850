import { Body, Controller, Inject, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { FaultState } from '../../application/faults.js';
import { ServeCompletionUseCase } from '../../application/serve-completion.use-case.js';
import { invalidRequest, refusalToHttp } from './openai-error.js';
import { parseChatCompletionRequest } from './openai-request.schemas.js';
import { runGeneration, sendError } from './run-generation.js';

@Controller('v1')
export class ChatCompletionsHttpController {
  constructor(
    @Inject(ServeCompletionUseCase) private readonly serve: ServeCompletionUseCase,
    @Inject(FaultState) private readonly faults: FaultState,
  ) {}

  @Post('chat/completions')
  create(@Body() body: unknown, @Res() reply: FastifyReply): void {
    const parsed = parseChatCompletionRequest(body);
    if (!parsed.ok) return sendError(reply, invalidRequest(parsed.param, parsed.message));
    const prepared = this.serve.prepareChat(parsed.value.input);
    if (!prepared.ok) return sendError(reply, refusalToHttp(prepared.refusal));
    runGeneration(reply, this.serve, this.faults, prepared.plan, {
      protocol: 'chat',
      stream: parsed.value.stream,
      includeUsage: parsed.value.includeUsage,
    });
  }
}
