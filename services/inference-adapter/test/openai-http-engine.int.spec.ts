import { context, SpanKind, trace } from '@opentelemetry/api';
import { startTelemetry } from '@spillway/telemetry';
import { freePort, waitFor } from '@spillway/testing';
import {
  EngineFailure,
  type EngineChatRequest,
  type EngineStreamEvent,
} from '../src/application/engine.port.js';
import { dialectFor } from '../src/adapters/engines/dialects/index.js';
import { OpenAiHttpEngine } from '../src/adapters/engines/openai-http.engine.js';
import {
  completeStream,
  deltaEvent,
  sseHeaders,
  startScriptedEngineServer,
  type ScriptedEngineServer,
} from './factories/scripted-engine-server.js';

// The HTTP driver against a scripted engine over real sockets: what reaches the wire for each
// dialect, how bytes split across reads are reassembled, and how each failure is named.
const telemetry = startTelemetry({
  serviceName: 'inference-adapter-test',
  traceExporter: 'memory',
});
// Generous except where a test provokes a stall: a loaded machine must not make them fire.
const timeouts = { connectMs: 10_000, firstTokenMs: 10_000, interTokenMs: 10_000, totalMs: 30_000 };
const stallAfterMs = 300;

const request = (overrides: Partial<EngineChatRequest> = {}): EngineChatRequest => ({
  requestId: 'req-42',
  model: 'llama-3.1-8b',
  messages: [{ role: 'user', content: 'hello' }],
  sampling: { maxTokens: 8, temperature: 0.2, seed: 7 },
  continueFinalMessage: false,
  ...overrides,
});

async function drain(stream: AsyncIterable<EngineStreamEvent>): Promise<EngineStreamEvent[]> {
  const events: EngineStreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

async function failureOf(run: () => Promise<unknown>): Promise<EngineFailure> {
  try {
    await run();
  } catch (error) {
    if (error instanceof EngineFailure) return error;
    throw error;
  }
  throw new Error('expected an EngineFailure');
}

describe('OpenAiHttpEngine over real HTTP', () => {
  let server: ScriptedEngineServer;
  beforeAll(async () => {
    server = await startScriptedEngineServer((_req, res) => {
      res.writeHead(200, sseHeaders);
      res.end(completeStream(['a']));
    });
  });
  afterAll(async () => {
    await server.close();
    await telemetry.shutdown();
  });

  it('reassembles a stream written one byte at a time, and reads usage after finish_reason', async () => {
    server.reply = async (_req, res) => {
      res.writeHead(200, sseHeaders);
      for (const byte of Buffer.from(completeStream(['Hé', 'llo', ' 🌊']))) {
        res.write(Buffer.of(byte));
        await new Promise((resolve) => setImmediate(resolve));
      }
      res.end();
    };
    const engine = new OpenAiHttpEngine(dialectFor('vllm'), server.url, timeouts);
    const events = await drain(
      await engine.openChatStream(request(), new AbortController().signal),
    );
    // Events that happen to arrive in one read are forwarded as one delta.
    const deltas = events.flatMap((e) => (e.kind === 'delta' ? [e] : []));
    expect(deltas.map((d) => d.text).join('')).toBe('Héllo 🌊');
    expect(deltas.reduce((n, d) => n + d.tokens, 0)).toBe(3);
    expect(events.at(-1)).toEqual({
      kind: 'finished',
      finishReason: 'stop',
      usage: { promptTokens: 7, completionTokens: 3, cachedPromptTokens: 0 },
    });
  });

  it('sends each dialect its own body, and a CLIENT span whose traceparent is on the request', async () => {
    server.reply = (_req, res) => {
      res.writeHead(200, sseHeaders);
      res.end(completeStream(['x']));
    };
    const resumed = request({
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'Hel' },
      ],
      continueFinalMessage: true,
    });
    for (const kind of ['vllm', 'sglang', 'tgi', 'llamacpp', 'ollama'] as const) {
      const engine = new OpenAiHttpEngine(dialectFor(kind), server.url, timeouts);
      await drain(await engine.openChatStream(resumed, new AbortController().signal));
    }
    const [vllm, sglang, tgi, llamacpp, ollama] = server.requests
      .slice(-5)
      .map((r) => r.body as Record<string, unknown>);
    expect(vllm).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
      continue_final_message: true,
      add_generation_prompt: false,
      max_tokens: 8,
      seed: 7,
    });
    expect(sglang).toMatchObject({ continue_final_message: true });
    expect(sglang).not.toHaveProperty('add_generation_prompt');
    expect(tgi).not.toHaveProperty('continue_final_message');
    expect(llamacpp).toMatchObject({ cache_prompt: true });
    expect(ollama).toMatchObject({ model: 'llama-3.1-8b', messages: resumed.messages });

    telemetry.memoryExporter?.reset();
    const parent = trace.getTracer('test').startSpan('parent');
    const engine = new OpenAiHttpEngine(dialectFor('vllm'), server.url, timeouts);
    await context.with(trace.setSpan(context.active(), parent), async () =>
      drain(await engine.openChatStream(request(), new AbortController().signal)),
    );
    parent.end();
    const client = telemetry.memoryExporter
      ?.getFinishedSpans()
      .find((s) => s.kind === SpanKind.CLIENT);
    expect(client?.name).toBe('POST /v1/chat/completions');
    expect(client?.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    const sent = server.requests.at(-1)?.headers.traceparent;
    expect(sent).toBe(`00-${client?.spanContext().traceId}-${client?.spanContext().spanId}-01`);
    expect(server.requests.at(-1)?.headers['x-request-id']).toBe('req-42');
  });

  it('names a stream that ends without [DONE], a stall, bad JSON and an HTTP error', async () => {
    const engine = new OpenAiHttpEngine(dialectFor('vllm'), server.url, {
      ...timeouts,
      interTokenMs: stallAfterMs,
    });

    server.reply = (_req, res) => {
      res.writeHead(200, sseHeaders);
      res.end(deltaEvent('half'));
    };
    const cut = await failureOf(async () =>
      drain(await engine.openChatStream(request(), new AbortController().signal)),
    );
    expect(cut).toMatchObject({ kind: 'disconnected' });
    expect(cut.message).toContain('without [DONE]');

    server.reply = (_req, res) => {
      res.writeHead(200, sseHeaders);
      res.write(deltaEvent('then silence'));
    };
    const stalled = await failureOf(async () =>
      drain(await engine.openChatStream(request(), new AbortController().signal)),
    );
    expect(stalled).toMatchObject({ kind: 'timeout' });
    expect(stalled.message).toContain('stalled for 300 ms');

    server.reply = (_req, res) => {
      res.writeHead(200, sseHeaders);
      res.end(
        `${deltaEvent('ok')}data: {"choices": [{"delta": {"content": "oops"\n\ndata: [DONE]\n\n`,
      );
    };
    const malformed = await failureOf(async () =>
      drain(await engine.openChatStream(request(), new AbortController().signal)),
    );
    expect(malformed).toMatchObject({ kind: 'bad-response' });
    expect(malformed.message).toContain('stream event #2 is not JSON');

    server.reply = (_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'error', message: 'The model is overloaded', code: 503 }));
    };
    const rejected = await failureOf(() =>
      engine.openChatStream(request(), new AbortController().signal),
    );
    expect(rejected).toMatchObject({ kind: 'rejected', status: 503 });
    expect(rejected.message).toContain('The model is overloaded');
  });

  it('aborts the HTTP request when the caller goes away', async () => {
    server.reply = (_req, res) => {
      res.writeHead(200, sseHeaders);
      res.write(deltaEvent('first'));
    };
    const before = server.closedEarly();
    const engine = new OpenAiHttpEngine(dialectFor('vllm'), server.url, timeouts);
    const caller = new AbortController();
    const stream = (await engine.openChatStream(request(), caller.signal))[Symbol.asyncIterator]();
    expect(await stream.next()).toMatchObject({ value: { kind: 'delta', text: 'first' } });
    const pending = stream.next();
    caller.abort();
    await expect(pending).rejects.toMatchObject({ kind: 'cancelled' });
    await waitFor(() => server.closedEarly() === before + 1, {
      description: 'the engine to see its client go away',
    });
  });

  it('reports an engine that is not listening as unreachable', async () => {
    const engine = new OpenAiHttpEngine(
      dialectFor('vllm'),
      `http://127.0.0.1:${await freePort()}`,
      timeouts,
    );
    const failure = await failureOf(() =>
      engine.openChatStream(request(), new AbortController().signal),
    );
    expect(failure).toMatchObject({ kind: 'unreachable' });
    expect(failure.message).toContain('ECONNREFUSED');
    expect(await engine.probeHealth(new AbortController().signal)).toMatchObject({ ready: false });
  });
});
