import { context, SpanKind, trace, type Span } from '@opentelemetry/api';
import { injectTraceContext } from '@spillway/telemetry';
import {
  EngineFailure,
  type EngineChatRequest,
  type EngineHealth,
  type EngineKind,
  type EnginePort,
  type EngineStream,
  type EngineUsage,
} from '../../application/engine.port.js';
import type { EngineLoadSample } from '../../domain/load-snapshot.js';
import type { EngineDialect } from './dialects/index.js';
import { EngineCall, type EngineTimeouts } from './engine-call.js';
import { readChatStream, type ChatStreamProgress } from './chat-stream.reader.js';
import { endSpan, recordUsage } from './engine-span.js';
import { interpretChatCompletion } from './openai-chunks.js';
import { parsePrometheusText } from './prometheus-text.js';

const tracer = trace.getTracer('@spillway/inference-adapter');

/**
 * An engine behind an OpenAI-compatible HTTP API, spoken to with Node's built-in fetch. One
 * driver serves every engine family; their differences live in the dialect.
 */
export class OpenAiHttpEngine implements EnginePort {
  readonly kind: EngineKind;
  readonly baseUrl: string;
  private readonly chatUrl: string;
  private readonly url: URL;

  constructor(
    private readonly dialect: EngineDialect,
    baseUrl: string,
    private readonly timeouts: EngineTimeouts,
  ) {
    this.kind = dialect.kind;
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.chatUrl = `${this.baseUrl}${dialect.chatPath}`;
    this.url = new URL(this.chatUrl);
  }

  async openChatStream(request: EngineChatRequest, signal: AbortSignal): Promise<EngineStream> {
    const call = new EngineCall(signal, this.timeouts, this.baseUrl);
    const span = this.startSpan(request, true);
    let response: Response;
    try {
      response = await this.post(request, true, call.signal, span);
    } catch (error) {
      const failure = call.failure(error, 'request');
      call.dispose();
      endSpan(span, failure);
      throw failure;
    }
    call.accepted();
    const progress: ChatStreamProgress = { started: false, finished: false };
    const events = readChatStream(response, call, span, progress);
    return {
      [Symbol.asyncIterator]: () => events,
      cancel: () => {
        if (progress.finished) return;
        const cancelled = new EngineFailure('cancelled', 'the consumer stopped reading');
        call.abort(cancelled);
        if (progress.started) {
          // Runs the generator's finally: it releases the call and ends the span.
          events.return(undefined).catch(() => undefined);
          return;
        }
        progress.finished = true;
        call.dispose();
        endSpan(span, cancelled);
      },
    };
  }

  async complete(
    request: EngineChatRequest,
    signal: AbortSignal,
  ): Promise<EngineUsage | undefined> {
    const call = new EngineCall(signal, this.timeouts, this.baseUrl);
    const span = this.startSpan(request, false);
    try {
      const response = await this.post(request, false, call.signal, span);
      call.accepted();
      const usage = interpretChatCompletion(await response.text());
      if (usage) recordUsage(span, usage);
      endSpan(span, undefined);
      return usage;
    } catch (error) {
      const failure = call.failure(error, 'request');
      endSpan(span, failure);
      throw failure;
    } finally {
      call.dispose();
    }
  }

  async probeHealth(signal: AbortSignal): Promise<EngineHealth> {
    const path = this.dialect.healthPath;
    try {
      const response = await fetch(`${this.baseUrl}${path}`, {
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.timeouts.connectMs)]),
      });
      await response.arrayBuffer();
      return response.ok
        ? { ready: true, detail: 'ready' }
        : {
            ready: false,
            detail: `the engine at ${this.baseUrl} answered ${path} with HTTP ${response.status}`,
          };
    } catch (error) {
      return {
        ready: false,
        detail: `the engine at ${this.baseUrl} is unreachable (${networkDetail(error)})`,
      };
    }
  }

  async scrapeLoad(signal: AbortSignal): Promise<EngineLoadSample | undefined> {
    const path = this.dialect.metricsPath;
    if (path === undefined) return undefined;
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.timeouts.connectMs)]),
      });
    } catch (error) {
      throw new EngineFailure(
        'unreachable',
        `cannot scrape ${this.baseUrl}${path} (${networkDetail(error)})`,
        undefined,
        {
          cause: error,
        },
      );
    }
    const text = await response.text();
    if (!response.ok)
      throw new EngineFailure('rejected', `HTTP ${response.status} from ${path}`, response.status);
    return this.dialect.loadFromMetrics(parsePrometheusText(text));
  }

  private async post(
    request: EngineChatRequest,
    stream: boolean,
    signal: AbortSignal,
    span: Span,
  ): Promise<Response> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: stream ? 'text/event-stream' : 'application/json',
      'x-request-id': request.requestId,
    };
    injectTraceContext(headers, trace.setSpan(context.active(), span));
    const response = await fetch(this.chatUrl, {
      method: 'POST',
      headers,
      body: JSON.stringify(this.dialect.chatBody(request, stream)),
      signal,
    });
    span.setAttribute('http.response.status_code', response.status);
    if (!response.ok) {
      const body = await response.text().catch(() => '');
      throw new EngineFailure(
        'rejected',
        `HTTP ${response.status}: ${errorMessage(body)}`,
        response.status,
      );
    }
    if (stream) {
      const type = response.headers.get('content-type') ?? '';
      if (!type.includes('text/event-stream')) {
        const body = await response.text().catch(() => '');
        throw new EngineFailure(
          'bad-response',
          `expected a text/event-stream, got ${type || 'no content-type'}: ${JSON.stringify(body.slice(0, 120))}`,
        );
      }
    }
    return response;
  }

  private startSpan(request: EngineChatRequest, stream: boolean): Span {
    return tracer.startSpan(
      `POST ${this.dialect.chatPath}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'http.request.method': 'POST',
          'url.full': this.chatUrl,
          'server.address': this.url.hostname,
          'server.port': Number(this.url.port || (this.url.protocol === 'https:' ? 443 : 80)),
          'gen_ai.operation.name': 'chat',
          'gen_ai.system': this.kind,
          'gen_ai.request.model': request.model,
          'spillway.engine.stream': stream,
          'spillway.request_id': request.requestId,
        },
      },
      context.active(),
    );
  }
}

function errorMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; message?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
    if (typeof parsed.error === 'object' && parsed.error !== null) {
      const message = (parsed.error as { message?: unknown }).message;
      if (typeof message === 'string') return message;
    }
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // Not JSON: show the start of the text.
  }
  const text = body.trim().replace(/\s+/g, ' ');
  return text.length === 0 ? '(empty body)' : text.slice(0, 200);
}

function networkDetail(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return 'no answer in time';
    const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
    if (cause && typeof cause.code === 'string') return cause.code;
    if (cause && typeof cause.message === 'string') return cause.message;
    return error.message;
  }
  return String(error);
}
