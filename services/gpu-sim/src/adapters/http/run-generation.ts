import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import type { FaultState } from '../../application/faults.js';
import type { ServeCompletionUseCase } from '../../application/serve-completion.use-case.js';
import type { PlannedReply } from '../../domain/reply-text.js';
import { writeHttpError, type HttpError } from './openai-error.js';
import { JsonResponseWriter, SseResponseWriter, type Protocol } from './openai-response.writers.js';

export interface RunOptions {
  readonly protocol: Protocol;
  readonly stream: boolean;
  readonly includeUsage: boolean;
}

/** Request header asking for exact simulated timings in the response (benchmarks). */
export const TIMINGS_HEADER = 'x-gpu-sim-timings';

/** Answers with an OpenAI-shaped error. */
export function sendError(reply: FastifyReply, error: HttpError): void {
  reply.hijack();
  writeHttpError(reply.raw, error);
}

/**
 * Takes over the response and runs the generation, streaming or not. When the client goes away
 * before the reply is complete, the generation is cancelled and its KV blocks are freed at once.
 */
export function runGeneration(
  reply: FastifyReply,
  serve: ServeCompletionUseCase,
  faults: FaultState,
  plan: PlannedReply,
  options: RunOptions,
): void {
  reply.hijack();
  const res = reply.raw;
  const prefix = options.protocol === 'chat' ? 'chatcmpl' : 'cmpl';
  const id = `${prefix}-${randomUUID().replaceAll('-', '')}`;
  const context = {
    id,
    created: Math.floor(Date.now() / 1000),
    model: serve.modelName,
    promptTokens: plan.promptTokenIds.length,
    completionTokens: plan.tokens.length,
    includeUsage: options.includeUsage,
    exposeTimings:
      reply.request.headers[TIMINGS_HEADER] === '1' ||
      reply.request.headers[TIMINGS_HEADER] === 'true',
  };
  let writer: SseResponseWriter | JsonResponseWriter;
  if (options.stream) {
    const sse = new SseResponseWriter(res, context, options.protocol, faults);
    sse.open();
    writer = sse;
  } else {
    writer = new JsonResponseWriter(res, context, options.protocol, faults);
  }
  const generation = serve.start(id, plan, writer);
  res.on('close', () => {
    if (!res.writableFinished) generation.cancel();
  });
}
