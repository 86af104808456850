import type { IncomingMessage } from 'node:http';
import { context, SpanKind, trace, type Attributes, type Span } from '@opentelemetry/api';
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
import { describeEngineAddress, explainConnectCode, parseEngineAddress } from './engine-address.js';
import { EngineCall, type EngineTimeouts } from './engine-call.js';
import { EngineHttp, isOk, readText } from './engine-http.js';
import { readChatStream, type ChatStreamProgress } from './chat-stream.reader.js';
import { endSpan, recordUsage } from './engine-span.js';
import { interpretChatCompletion } from './openai-chunks.js';
import { parsePrometheusText } from './prometheus-text.js';

const tracer = trace.getTracer('@spillway/inference-adapter');

/**
 * An engine behind an OpenAI-compatible HTTP API, spoken to over kept-alive node:http connections
 * (TCP, or the engine's Unix domain socket). One driver serves every engine family; their
 * differences live in the dialect.
 */
export class OpenAiHttpEngine implements EnginePort {
  readonly kind: EngineKind;
  /** The engine's address as configured (`http://host:port` or `unix:/path`), for messages. */
  readonly baseUrl: string;
  private readonly url: URL;
  private readonly healthUrl: URL;
  private readonly metricsUrl: URL | undefined;
  private readonly http: EngineHttp;
  /** The CLIENT span's attributes that are the same on every request. */
  private readonly spanAttributes: Attributes;

  constructor(
    private readonly dialect: EngineDialect,
    engineUrl: string,
    private readonly timeouts: EngineTimeouts,
  ) {
    this.kind = dialect.kind;
    const address = parseEngineAddress(engineUrl);
    this.baseUrl = describeEngineAddress(address);
    // Over a socket the URL only carries the path (and the Host header).
    const httpBase = address.transport === 'unix' ? 'http://localhost' : address.baseUrl;
    this.url = new URL(`${httpBase}${dialect.chatPath}`);
    this.healthUrl = new URL(`${httpBase}${dialect.healthPath}`);
    this.metricsUrl =
      dialect.metricsPath === undefined ? undefined : new URL(`${httpBase}${dialect.metricsPath}`);
    this.http = new EngineHttp(address);
    // OTel HTTP and GenAI conventions; for a Unix socket, server.address is the socket's path.
    this.spanAttributes = Object.freeze({
      'http.request.method': 'POST',
      'url.full': this.url.href,
      ...(address.transport === 'unix'
        ? { 'server.address': address.socketPath, 'network.transport': 'unix' }
        : {
            'server.address': this.url.hostname,
            'server.port': Number(this.url.port || (this.url.protocol === 'https:' ? 443 : 80)),
          }),
      'gen_ai.operation.name': 'chat',
      'gen_ai.system': this.kind,
    });
  }

  /** Closes the kept-alive engine connections. */
  close(): void {
    this.http.close();
  }

  async openChatStream(request: EngineChatRequest, signal: AbortSignal): Promise<EngineStream> {
    const call = new EngineCall(signal, this.timeouts, this.baseUrl);
    const span = this.startSpan(request, true);
    let response: IncomingMessage;
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
      const usage = interpretChatCompletion(await readText(response));
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
      const response = await this.get(this.healthUrl, signal);
      response.resume();
      return isOk(response)
        ? { ready: true, detail: 'ready' }
        : {
            ready: false,
            detail: `the engine at ${this.baseUrl} answered ${path} with HTTP ${response.statusCode}`,
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
    if (path === undefined || this.metricsUrl === undefined) return undefined;
    let text: string;
    let response: IncomingMessage;
    try {
      response = await this.get(this.metricsUrl, signal);
      text = await readText(response);
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
    if (!isOk(response))
      throw new EngineFailure(
        'rejected',
        `HTTP ${response.statusCode} from ${path}`,
        response.statusCode,
      );
    return this.dialect.loadFromMetrics(parsePrometheusText(text));
  }

  private get(url: URL, signal: AbortSignal): Promise<IncomingMessage> {
    return this.http.request(
      url,
      'GET',
      {},
      undefined,
      AbortSignal.any([signal, AbortSignal.timeout(this.timeouts.connectMs)]),
    );
  }

  private async post(
    request: EngineChatRequest,
    stream: boolean,
    signal: AbortSignal,
    span: Span,
  ): Promise<IncomingMessage> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: stream ? 'text/event-stream' : 'application/json',
      'x-request-id': request.requestId,
    };
    injectTraceContext(headers, trace.setSpan(context.active(), span));
    const response = await this.http.request(
      this.url,
      'POST',
      headers,
      JSON.stringify(this.dialect.chatBody(request, stream)),
      signal,
    );
    const status = response.statusCode ?? 0;
    span.setAttribute('http.response.status_code', status);
    if (!isOk(response)) {
      const body = await readText(response).catch(() => '');
      throw new EngineFailure('rejected', `HTTP ${status}: ${errorMessage(body)}`, status);
    }
    if (stream) {
      const type = response.headers['content-type'] ?? '';
      if (!type.includes('text/event-stream')) {
        const body = await readText(response).catch(() => '');
        throw new EngineFailure(
          'bad-response',
          `expected a text/event-stream, got ${type || 'no content-type'}: ${JSON.stringify(body.slice(0, 120))}`,
        );
      }
    }
    return response;
  }

  private startSpan(request: EngineChatRequest, stream: boolean): Span {
    const span = tracer.startSpan(
      `POST ${this.dialect.chatPath}`,
      { kind: SpanKind.CLIENT, attributes: this.spanAttributes },
      context.active(),
    );
    // Only a recording span keeps attributes; the per-request ones are not worth building otherwise.
    if (span.isRecording())
      span.setAttributes({
        'gen_ai.request.model': request.model,
        'spillway.engine.stream': stream,
        'spillway.request_id': request.requestId,
      });
    return span;
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
  // Duck-typed: node:http's errors need not be instances of this realm's Error.
  if (typeof error !== 'object' || error === null) return String(error);
  const { name, code, message, cause } = error as {
    name?: unknown;
    code?: unknown;
    message?: unknown;
    cause?: { code?: unknown; message?: unknown; name?: unknown };
  };
  // An aborted request (our timeout or the caller) carries the abort reason as its cause.
  if (name === 'TimeoutError' || cause?.name === 'TimeoutError') return 'no answer in time';
  if (typeof code === 'string' && code !== 'ABORT_ERR') return explainConnectCode(code);
  if (cause && typeof cause.code === 'string') return explainConnectCode(cause.code);
  if (cause && typeof cause.message === 'string') return cause.message;
  return typeof message === 'string' ? message : 'an unknown network error';
}
