import type { IncomingMessage } from 'node:http';
import type { Span } from '@opentelemetry/api';
import {
  EngineFailure,
  type EngineStreamEvent,
  type EngineUsage,
} from '../../application/engine.port.js';
import { finishReasonFromEngine } from '../../domain/finish-reason.js';
import type { EngineCall } from './engine-call.js';
import { endSpan, recordFinish } from './engine-span.js';
import { interpretChatChunk, type ChatChunk } from './openai-chunks.js';
import { readSseBatches, type SseEvent } from './sse-decoder.js';

/** Whether the reader has begun, and whether it has released its call and span. */
export interface ChatStreamProgress {
  started: boolean;
  finished: boolean;
}

/**
 * Reads an accepted chat-completion stream into the adapter's events: deltas, then exactly one
 * `finished` at `[DONE]`. It owns the call and the span from here: whatever ends the stream
 * (completion, failure, the consumer stopping) releases the call and ends the span once.
 */
export async function* readChatStream(
  response: IncomingMessage,
  call: EngineCall,
  span: Span,
  progress: ChatStreamProgress,
): AsyncGenerator<EngineStreamEvent> {
  progress.started = true;
  let finishReason: string | null = null;
  let usage: EngineUsage | undefined;
  let done = false;
  let failure: EngineFailure | undefined;
  try {
    // Node's streaming UTF-8 decoder: a character split across two reads stays whole.
    response.setEncoding('utf8');
    for await (const batch of readSseBatches(response as AsyncIterable<string>)) {
      // After [DONE] the rest of the body is read only so the connection can be reused.
      if (done) continue;
      call.tick();
      // Tokens that arrived in one read leave as one delta: fewer gRPC messages under load,
      // the same text.
      let text = '';
      let tokens = 0;
      for (const event of batch) {
        if (done) break;
        let chunk: ChatChunk;
        try {
          chunk = interpret(event, call);
        } catch (error) {
          // The good tokens before a bad event still reach the caller (a resumed turn needs them).
          if (tokens > 0) yield { kind: 'delta', text, tokens };
          throw error;
        }
        switch (chunk.kind) {
          case 'done':
            done = true;
            break;
          case 'error':
            if (tokens > 0) yield { kind: 'delta', text, tokens };
            throw new EngineFailure(
              'engine-error',
              `the engine reported an error mid-stream: ${chunk.message}`,
            );
          case 'chunk':
            if (chunk.usage) usage = chunk.usage;
            if (chunk.finishReason !== null) finishReason = chunk.finishReason;
            if (chunk.text.length > 0) {
              text += chunk.text;
              tokens++;
            }
            break;
          default: {
            const unknownChunk: never = chunk;
            throw new Error(`unhandled chunk ${JSON.stringify(unknownChunk)}`);
          }
        }
      }
      if (tokens > 0) yield { kind: 'delta', text, tokens };
      if (done) {
        recordFinish(span, finishReason, usage);
        yield { kind: 'finished', finishReason: finishReasonFromEngine(finishReason), usage };
      }
    }
    if (!done) {
      const finished = finishReason === null ? '' : ` (finish_reason ${finishReason})`;
      throw new EngineFailure(
        'disconnected',
        `the engine's stream ended after ${call.eventCount} events without [DONE]${finished}`,
      );
    }
  } catch (error) {
    // Once the reply is complete, a hiccup while draining the connection is nobody's problem.
    if (done) return;
    failure = call.failure(error, 'body');
    throw failure;
  } finally {
    if (!done) {
      // Whether we failed or the consumer stopped early (its caller went away), the engine
      // must stop generating: aborting the request closes the connection.
      failure ??= new EngineFailure('cancelled', 'the consumer stopped reading');
      call.abort(failure);
    }
    call.dispose();
    progress.finished = true;
    endSpan(span, done ? undefined : failure);
  }
}

function interpret(event: SseEvent, call: EngineCall): ChatChunk {
  call.countEvent();
  try {
    return interpretChatChunk(event.data, call.eventCount);
  } catch (error) {
    // An event the stream ended inside of is a cut connection, not a malformed one.
    if (event.unterminated) {
      throw new EngineFailure(
        'disconnected',
        `the engine's stream was cut inside event #${call.eventCount}`,
      );
    }
    throw error;
  }
}
