import type { FastifyReply } from 'fastify';
import { type Log } from '../../application/ports/system.port.js';
import { type TurnOutcome } from '../../application/run-turn/turn-runner.js';
import { type CompletedTurn } from '../../domain/chat.js';
import { toHttpError } from './http-errors.js';
import {
  type ChunkContext,
  chatCompletion,
  completionId,
  contentChunk,
  contentChunkEncoder,
  finishChunk,
  roleChunk,
  usageChunk,
} from './openai-format.js';
import { rateLimitHeaders } from './rate-limit-headers.js';
import { SseWriter } from './sse-writer.js';

export interface TurnResponseOptions {
  readonly stream: boolean;
  readonly includeUsage: boolean;
  readonly bodyLimitBytes: number;
  readonly log: Log;
}

/** Writes a turn as OpenAI does: one chat.completion, or chat.completion.chunk events and [DONE]. */
export async function sendTurn(
  reply: FastifyReply,
  outcome: TurnOutcome,
  options: TurnResponseOptions,
): Promise<void> {
  const headers = outcomeHeaders(outcome);
  if (outcome.kind === 'replayed') {
    if (!options.stream) {
      await reply.status(200).headers(headers).send(chatCompletion(outcome.turn));
      return;
    }
    await streamCompleted(reply, outcome.turn, headers, options);
    return;
  }

  const turn = outcome.turn;
  if (turn.turnId !== '') headers['x-spillway-turn-id'] = turn.turnId;
  if (!options.stream) {
    const onClose = (): void => {
      if (!reply.raw.writableEnded) void turn.abort();
    };
    reply.raw.once('close', onClose);
    try {
      const completed = await turn.collect();
      await reply.status(200).headers(headers).send(chatCompletion(completed));
    } finally {
      reply.raw.off('close', onClose);
    }
    return;
  }

  reply.hijack();
  const sse = new SseWriter(reply.raw);
  sse.onClose(() => {
    if (sse.gone) void turn.abort();
  });
  const context: ChunkContext = {
    id: completionId(turn.turnId),
    created: turn.createdAt,
    model: turn.model,
    includeUsage: options.includeUsage,
    ...(turn.conversationId !== undefined ? { conversationId: turn.conversationId } : {}),
  };
  const encodeContent = contentChunkEncoder(context);
  sse.open(headers);
  try {
    await sse.data(roleChunk(context));
    for await (const event of turn.events()) {
      if (sse.gone) break;
      if (event.type === 'delta') {
        if (event.text !== '') await sse.raw(encodeContent(event.text));
      } else {
        await sse.data(finishChunk(context, event.finishReason));
        if (options.includeUsage) await sse.data(usageChunk(context, event.usage));
      }
    }
    if (!sse.gone) await sse.data('[DONE]');
  } catch (error) {
    // Headers are out: the failure travels as an error event, which OpenAI's SDKs raise.
    const failure = toHttpError(error, options.bodyLimitBytes);
    if (!sse.gone) await sse.data(failure.body);
    if (failure.status >= 500)
      options.log.warn('gateway: turn failed mid-stream', {
        error: error instanceof Error ? error.message : String(error),
      });
  } finally {
    sse.end();
  }
}

async function streamCompleted(
  reply: FastifyReply,
  turn: CompletedTurn,
  headers: Record<string, string>,
  options: TurnResponseOptions,
): Promise<void> {
  reply.hijack();
  const sse = new SseWriter(reply.raw);
  const context: ChunkContext = {
    id: completionId(turn.turnId),
    created: turn.createdAt,
    model: turn.model,
    includeUsage: options.includeUsage,
    ...(turn.conversationId !== undefined ? { conversationId: turn.conversationId } : {}),
  };
  sse.open(headers);
  await sse.data(roleChunk(context));
  if (turn.content !== '') await sse.data(contentChunk(context, turn.content));
  await sse.data(finishChunk(context, turn.finishReason));
  if (options.includeUsage) await sse.data(usageChunk(context, turn.usage));
  await sse.data('[DONE]');
  sse.end();
}

function outcomeHeaders(outcome: TurnOutcome): Record<string, string> {
  const headers: Record<string, string> = outcome.quota ? rateLimitHeaders(outcome.quota) : {};
  if (outcome.cache !== 'uncacheable') headers['x-spillway-cache'] = outcome.cache;
  if (outcome.kind === 'replayed') {
    headers['x-spillway-turn-id'] = outcome.turn.turnId;
    if (outcome.source === 'idempotency') headers['x-spillway-idempotent-replay'] = 'true';
  }
  const conversationId =
    outcome.kind === 'replayed' ? outcome.turn.conversationId : outcome.turn.conversationId;
  if (conversationId !== undefined) headers['x-spillway-conversation-id'] = conversationId;
  return headers;
}
