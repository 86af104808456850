import type { ServerResponse } from 'node:http';
import type { FaultState } from '../../application/faults.js';
import type {
  GenerationListener,
  GenerationTimings,
} from '../../application/generation.service.js';
import type { FinishReason } from '../../domain/reply-text.js';

/** What every response of one request repeats. */
export interface ResponseContext {
  readonly id: string;
  readonly created: number;
  readonly model: string;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly includeUsage: boolean;
  /** Add `gpu_sim_timings` (simulated ms) to the last chunk / the response: the x-gpu-sim-timings header. */
  readonly exposeTimings: boolean;
}

/** `"gpu_sim_timings":{…}` — exact simulated timings, for benchmarks (not part of OpenAI's API). */
function timingsField(timings: GenerationTimings | undefined): string {
  if (!timings) return '';
  const ttft = timings.firstTokenMs - timings.arrivalMs;
  return `,"gpu_sim_timings":{"arrival_ms":${timings.arrivalMs},"first_token_ms":${timings.firstTokenMs},"last_token_ms":${timings.lastTokenMs},"ttft_ms":${ttft}}`;
}

export type Protocol = 'chat' | 'completion';

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
} as const;

function usage(ctx: ResponseContext): string {
  return `{"prompt_tokens":${ctx.promptTokens},"total_tokens":${ctx.promptTokens + ctx.completionTokens},"completion_tokens":${ctx.completionTokens}}`;
}

/**
 * Server-sent events in OpenAI's chunk shapes (`chat.completion.chunk` / `text_completion`),
 * built by string concatenation: with hundreds of streams this is the simulator's hot path. As
 * vLLM does, the finish reason rides on the chunk of the last token; a usage-only chunk follows
 * when `stream_options.include_usage` is set, then `data: [DONE]`.
 */
export class SseResponseWriter implements GenerationListener {
  private readonly head: string;
  private started = false;
  private sent = 0;

  constructor(
    private readonly res: ServerResponse,
    private readonly ctx: ResponseContext,
    private readonly protocol: Protocol,
    private readonly faults: FaultState,
  ) {
    const object = protocol === 'chat' ? 'chat.completion.chunk' : 'text_completion';
    this.head = `data: {"id":${JSON.stringify(ctx.id)},"object":"${object}","created":${ctx.created},"model":${JSON.stringify(ctx.model)},"choices":[{"index":0,`;
  }

  /** Sends the status and headers at once so the client knows the request was accepted. */
  open(): void {
    this.res.writeHead(200, SSE_HEADERS);
    this.res.flushHeaders();
  }

  onTokens(
    texts: readonly string[],
    _firstIndex: number,
    finish?: FinishReason,
    timings?: GenerationTimings,
  ): void {
    if (this.res.destroyed) return;
    const fault = this.faults.fault;
    let out = '';
    if (!this.started && this.protocol === 'chat')
      out += `${this.head}"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}\n\n`;
    this.started = true;
    const last = texts.length - 1;
    for (let i = 0; i < texts.length; i++) {
      const text = texts[i] ?? '';
      this.sent++;
      if (fault.mode === 'malformed' && this.sent > fault.afterTokens) {
        out += `${this.head}"delta":{"content":${JSON.stringify(text)}\n\n`;
        continue;
      }
      if (text === '' && !(i === last && finish)) continue;
      out += this.chunk(text, i === last ? finish : undefined);
    }
    if (texts.length === 0 && finish) out += this.chunk('', finish);
    if (finish) {
      if (this.ctx.exposeTimings) {
        out += `data: {"id":${JSON.stringify(this.ctx.id)},"object":"${this.protocol === 'chat' ? 'chat.completion.chunk' : 'text_completion'}","created":${this.ctx.created},"model":${JSON.stringify(this.ctx.model)},"choices":[]${timingsField(timings)}}\n\n`;
      }
      if (this.ctx.includeUsage) {
        const object = this.protocol === 'chat' ? 'chat.completion.chunk' : 'text_completion';
        out += `data: {"id":${JSON.stringify(this.ctx.id)},"object":"${object}","created":${this.ctx.created},"model":${JSON.stringify(this.ctx.model)},"choices":[],"usage":${usage(this.ctx)}}\n\n`;
      }
      out += 'data: [DONE]\n\n';
      this.res.end(out);
      return;
    }
    if (out) this.res.write(out);
  }

  private chunk(text: string, finish: FinishReason | undefined): string {
    const reason = finish ? `"${finish}"` : 'null';
    return this.protocol === 'chat'
      ? `${this.head}"delta":{"content":${JSON.stringify(text)}},"logprobs":null,"finish_reason":${reason}}]}\n\n`
      : `${this.head}"text":${JSON.stringify(text)},"logprobs":null,"finish_reason":${reason}}]}\n\n`;
  }
}

/** Collects a whole reply and answers with one `chat.completion` / `text_completion` object. */
export class JsonResponseWriter implements GenerationListener {
  private text = '';

  constructor(
    private readonly res: ServerResponse,
    private readonly ctx: ResponseContext,
    private readonly protocol: Protocol,
    private readonly faults: FaultState,
  ) {}

  onTokens(
    texts: readonly string[],
    _firstIndex: number,
    finish?: FinishReason,
    timings?: GenerationTimings,
  ): void {
    for (const text of texts) this.text += text;
    if (!finish || this.res.destroyed) return;
    let body = this.protocol === 'chat' ? this.chatBody(finish) : this.completionBody(finish);
    if (this.ctx.exposeTimings) body = `${body.slice(0, -1)}${timingsField(timings)}}`;
    this.res.writeHead(200, { 'content-type': 'application/json' });
    // Malformed fault: a body cut in half.
    this.res.end(
      this.faults.fault.mode === 'malformed' ? body.slice(0, Math.floor(body.length / 2)) : body,
    );
  }

  private chatBody(finish: FinishReason): string {
    return JSON.stringify({
      id: this.ctx.id,
      object: 'chat.completion',
      created: this.ctx.created,
      model: this.ctx.model,
      system_fingerprint: null,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: this.text, refusal: null, tool_calls: [] },
          logprobs: null,
          finish_reason: finish,
        },
      ],
      usage: JSON.parse(usage(this.ctx)) as unknown,
    });
  }

  private completionBody(finish: FinishReason): string {
    return JSON.stringify({
      id: this.ctx.id,
      object: 'text_completion',
      created: this.ctx.created,
      model: this.ctx.model,
      system_fingerprint: null,
      choices: [{ index: 0, text: this.text, logprobs: null, finish_reason: finish }],
      usage: JSON.parse(usage(this.ctx)) as unknown,
    });
  }
}
