import OpenAI from 'openai';
import type { GpuSimServer } from '../src/gpu-sim.app.js';
import { postJson, readSse, sample, scrape, startTestServer } from './gpu-sim.fixture.js';

// Fault injection through POST /admin/faults, each observed the way a client would.

let server: GpuSimServer;
let openai: OpenAI;

beforeAll(async () => {
  server = await startTestServer({ timeScale: 1 });
  openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'x', maxRetries: 0 });
});

afterEach(async () => {
  await setFault({ mode: 'none' });
});

afterAll(async () => {
  await server.shutdown(1000);
});

async function setFault(fault: Record<string, unknown>): Promise<void> {
  const response = await postJson(`${server.url}/admin/faults`, fault);
  expect(response.status).toBe(200);
}

const chat = (extra: Record<string, unknown> = {}) => ({
  model: 'm',
  messages: [{ role: 'user' as const, content: 'Where is my parcel?' }],
  ...extra,
});

/** Data events that arrive within `ms` (or until the stream ends). */
async function collectFor(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  ms: number,
): Promise<{ events: number; ended: boolean }> {
  const decoder = new TextDecoder();
  let events = 0;
  const deadline = Date.now() + ms;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return { events, ended: false };
    const next = await Promise.race([
      reader.read(),
      new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), left)),
    ]);
    if (next === 'timeout') return { events, ended: false };
    if (next.done) return { events, ended: true };
    events += decoder.decode(next.value).split('data: ').length - 1;
  }
}

describe('fault injection', () => {
  it('error: requests fail with the chosen status in OpenAI error shape', async () => {
    await setFault({ mode: 'error', status: 500 });
    await expect(openai.chat.completions.create(chat())).rejects.toMatchObject({ status: 500 });
    await setFault({ mode: 'error', status: 503 });
    const response = await postJson(`${server.url}/v1/chat/completions`, chat());
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({
      error: expect.objectContaining({ type: 'service_unavailable' }),
    });
    await setFault({ mode: 'none' });
    await expect(openai.chat.completions.create(chat({ max_tokens: 2 }))).resolves.toBeDefined();
  });

  it('malformed: the SSE stream carries invalid JSON after N tokens, and the SDK fails on it', async () => {
    await setFault({ mode: 'malformed', afterTokens: 2 });
    const raw = await postJson(
      `${server.url}/v1/chat/completions`,
      chat({ stream: true, max_tokens: 6 }),
    );
    const data = await readSse(raw);
    const parses = data
      .filter((d) => d !== '[DONE]')
      .map((d) => {
        try {
          JSON.parse(d);
          return true;
        } catch {
          return false;
        }
      });
    expect(parses.slice(0, 3)).toEqual([true, true, true]); // role chunk + 2 tokens
    expect(parses.slice(3)).toContain(false);

    // The SDK logs the chunk it cannot parse; keep the test output clean.
    const quietClient = new OpenAI({
      baseURL: `${server.url}/v1`,
      apiKey: 'x',
      maxRetries: 0,
      logLevel: 'off',
    });
    const consume = async () => {
      const stream = await quietClient.chat.completions.create({
        ...chat({ max_tokens: 6 }),
        stream: true,
      });
      for await (const _chunk of stream) {
        // reading is enough
      }
    };
    await expect(consume()).rejects.toThrow();
  });

  it('hang: an open stream goes silent but stays open, and resumes when the fault is cleared', async () => {
    const abort = new AbortController();
    const response = await postJson(
      `${server.url}/v1/chat/completions`,
      chat({ stream: true, max_tokens: 400 }),
      { signal: abort.signal },
    );
    const reader = response.body!.getReader();
    const first = await collectFor(reader, 100);
    expect(first.events).toBeGreaterThan(0);
    await setFault({ mode: 'hang' });
    await collectFor(reader, 100); // tokens already on the wire
    const silent = await collectFor(reader, 300);
    expect(silent).toEqual({ events: 0, ended: false });
    expect(sample(await scrape(server.url), 'vllm:num_requests_running')).toBe(1);
    await setFault({ mode: 'none' });
    const resumed = await collectFor(reader, 200);
    expect(resumed.events).toBeGreaterThan(0);
    abort.abort();
  });

  it('slow: steps take the given factor longer (seen in the simulated inter-token latency)', async () => {
    const delta = async (run: () => Promise<unknown>) => {
      const before = await scrape(server.url);
      await run();
      const after = await scrape(server.url);
      const sum =
        (sample(after, 'vllm:inter_token_latency_seconds_sum') ?? 0) -
        (sample(before, 'vllm:inter_token_latency_seconds_sum') ?? 0);
      const count =
        (sample(after, 'vllm:inter_token_latency_seconds_count') ?? 0) -
        (sample(before, 'vllm:inter_token_latency_seconds_count') ?? 0);
      return sum / count;
    };
    const normal = await delta(() => openai.chat.completions.create(chat({ max_tokens: 10 })));
    await setFault({ mode: 'slow', factor: 4 });
    const slow = await delta(() => openai.chat.completions.create(chat({ max_tokens: 10 })));
    expect(slow / normal).toBeCloseTo(4, 1);
  });

  it('rejects an unknown fault mode naming the field', async () => {
    const response = await postJson(`${server.url}/admin/faults`, { mode: 'explode' });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { param: string } }).error.param).toBe('mode');
  });
});
