import type { GpuSimServer } from '../src/gpu-sim.app.js';
import {
  eventually,
  postJson,
  readSse,
  sample,
  scrape,
  startTestServer,
} from './gpu-sim.fixture.js';

let server: GpuSimServer;

beforeAll(async () => {
  // Real time: a 5000-token reply takes ~25 s of decode, so streams stay open while we look.
  server = await startTestServer({ timeScale: 1 });
});

afterAll(async () => {
  await server.shutdown(1000);
});

const running = async () => sample(await scrape(server.url), 'vllm:num_requests_running');

function openStream(signal: AbortSignal, maxTokens = 5000): Promise<Response> {
  return postJson(
    `${server.url}/v1/chat/completions`,
    {
      model: 'm',
      messages: [{ role: 'user', content: 'Tell me a long story.' }],
      max_tokens: maxTokens,
      stream: true,
    },
    { signal },
  );
}

describe('/metrics', () => {
  it("exposes vLLM's metric names with a model_name label", async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    for (const name of [
      'vllm:num_requests_running',
      'vllm:num_requests_waiting',
      'vllm:gpu_cache_usage_perc',
      'vllm:kv_cache_usage_perc',
      'vllm:prefix_cache_queries_total',
      'vllm:prefix_cache_hits_total',
      'vllm:time_to_first_token_seconds_bucket',
      'vllm:time_per_output_token_seconds_bucket',
      'vllm:inter_token_latency_seconds_count',
      'vllm:prompt_tokens_total',
      'vllm:generation_tokens_total',
      'vllm:num_preemptions_total',
      'vllm:e2e_request_latency_seconds_sum',
    ]) {
      expect(text).toMatch(
        new RegExp(`^${name}\\{[^}]*model_name="meta-llama/Llama-3\\.1-8B-Instruct"[^}]*\\} `, 'm'),
      );
    }
    expect(text).toContain('# TYPE vllm:time_to_first_token_seconds histogram');
    expect(text).toContain('# TYPE vllm:prefix_cache_hits_total counter');
  });

  it('counts running requests while streams are open, and drops them when clients abort', async () => {
    expect(await running()).toBe(0);
    const controllers = Array.from({ length: 4 }, () => new AbortController());
    const responses = await Promise.all(controllers.map((c) => openStream(c.signal)));
    // Wait until each stream has produced a token: every request is in the running batch.
    await Promise.all(responses.map((r) => readSse(r, (data) => data.length >= 2).catch(() => [])));
    await eventually(async () => (await running()) === 4);
    expect(sample(await scrape(server.url), 'vllm:kv_cache_usage_perc')).toBeGreaterThan(0);

    controllers[0]!.abort();
    controllers[1]!.abort();
    await eventually(async () => (await running()) === 2);
    controllers[2]!.abort();
    controllers[3]!.abort();
    await eventually(async () => (await running()) === 0);
    expect(sample(await scrape(server.url), 'vllm:kv_cache_usage_perc')).toBe(0);
  });

  it('returns to 0 running after streams complete, counting tokens and latencies', async () => {
    const before = await scrape(server.url);
    const responses = await Promise.all(
      Array.from({ length: 3 }, () =>
        postJson(`${server.url}/v1/chat/completions`, {
          messages: [{ role: 'user', content: 'short please' }],
          max_tokens: 20,
          stream: true,
        }),
      ),
    );
    const streams = await Promise.all(responses.map((r) => readSse(r)));
    for (const data of streams) expect(data.at(-1)).toBe('[DONE]');
    const after = await scrape(server.url);
    expect(sample(after, 'vllm:num_requests_running')).toBe(0);
    const delta = (name: string) => (sample(after, name) ?? 0) - (sample(before, name) ?? 0);
    expect(delta('vllm:generation_tokens_total')).toBe(60);
    expect(delta('vllm:time_to_first_token_seconds_count')).toBe(3);
    expect(delta('vllm:inter_token_latency_seconds_count')).toBe(57);
    expect(delta('vllm:e2e_request_latency_seconds_count')).toBe(3);
  });

  it('discloses exact simulated timings when asked with the x-gpu-sim-timings header', async () => {
    const response = await postJson(
      `${server.url}/v1/chat/completions`,
      { messages: [{ role: 'user', content: 'timings please' }], max_tokens: 4 },
      { headers: { 'content-type': 'application/json', 'x-gpu-sim-timings': '1' } },
    );
    const body = (await response.json()) as {
      gpu_sim_timings: {
        arrival_ms: number;
        first_token_ms: number;
        last_token_ms: number;
        ttft_ms: number;
      };
    };
    const t = body.gpu_sim_timings;
    expect(t.ttft_ms).toBeCloseTo(t.first_token_ms - t.arrival_ms, 6);
    expect(t.ttft_ms).toBeGreaterThan(0);
    expect(t.last_token_ms).toBeGreaterThan(t.first_token_ms);
  });

  it('counts prefix-cache queries and hits in tokens, as vLLM does', async () => {
    const long = 'Please summarise our refund policy for damaged items. '.repeat(40);
    const request = { messages: [{ role: 'user', content: long }], max_tokens: 1 };
    const first = (await (await postJson(`${server.url}/v1/chat/completions`, request)).json()) as {
      usage: { prompt_tokens: number };
    };
    const before = await scrape(server.url);
    await postJson(`${server.url}/v1/chat/completions`, request).then((r) => r.json());
    const after = await scrape(server.url);
    const delta = (name: string) => (sample(after, name) ?? 0) - (sample(before, name) ?? 0);
    const promptTokens = first.usage.prompt_tokens;
    expect(delta('vllm:prefix_cache_queries_total')).toBe(promptTokens);
    // Every full 16-token block hits, except that the last prompt token is always computed.
    expect(delta('vllm:prefix_cache_hits_total')).toBe(Math.floor((promptTokens - 1) / 16) * 16);
  });
});
