import type { GpuSimServer } from '../src/gpu-sim.app.js';
import { postJson, startTestServer } from './gpu-sim.fixture.js';

let server: GpuSimServer;

beforeAll(async () => {
  server = await startTestServer({ timeScale: 0.01 });
});

afterAll(async () => {
  await server.shutdown(1000);
});

const ok = { messages: [{ role: 'user', content: 'hi' }] };

describe('bad input gets a 400 naming the field, in OpenAI error shape', () => {
  // Every row has all five columns: Jest treats a missing trailing argument as a `done` callback.
  it.each<[string, string, unknown, string | null, RegExp | undefined]>([
    ['chat', 'bad JSON', '{"messages": [', null, /not valid JSON/],
    ['chat', 'empty body', '', null, /not valid JSON|JSON object/],
    ['chat', 'a JSON array', '[]', null, /JSON object/],
    ['chat', 'missing messages', {}, 'messages', undefined],
    ['chat', 'messages not an array', { messages: 'hi' }, 'messages', undefined],
    ['chat', 'no messages', { messages: [] }, 'messages', undefined],
    [
      'chat',
      'unknown role',
      { messages: [{ role: 'robot', content: 'hi' }] },
      'messages[0].role',
      undefined,
    ],
    [
      'chat',
      'content a number',
      { messages: [{ role: 'user', content: 42 }] },
      'messages[0].content',
      undefined,
    ],
    ['chat', 'negative max_tokens', { ...ok, max_tokens: -5 }, 'max_tokens', undefined],
    ['chat', 'zero max_tokens', { ...ok, max_tokens: 0 }, 'max_tokens', undefined],
    ['chat', 'fractional max_tokens', { ...ok, max_tokens: 1.5 }, 'max_tokens', undefined],
    ['chat', 'max_tokens a string', { ...ok, max_tokens: '10' }, 'max_tokens', undefined],
    [
      'chat',
      'negative max_completion_tokens',
      { ...ok, max_completion_tokens: -1 },
      'max_completion_tokens',
      undefined,
    ],
    ['chat', 'temperature too high', { ...ok, temperature: 3 }, 'temperature', undefined],
    ['chat', 'stream not a boolean', { ...ok, stream: 'yes' }, 'stream', undefined],
    ['chat', 'seed not an integer', { ...ok, seed: 'abc' }, 'seed', undefined],
    ['chat', 'stop a number', { ...ok, stop: 5 }, 'stop', undefined],
    ['chat', 'five stop strings', { ...ok, stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop', undefined],
    ['chat', 'n = 2', { ...ok, n: 2 }, 'n', undefined],
    [
      'chat',
      'longer than the context',
      { ...ok, max_tokens: 500_000 },
      'max_tokens',
      /maximum context length is 131072/,
    ],
    ['completions', 'missing prompt', { max_tokens: 3 }, 'prompt', undefined],
    ['completions', 'empty token list', { prompt: [] }, 'prompt', undefined],
    ['completions', 'two prompts', { prompt: [[1], [2]] }, 'prompt', undefined],
    ['completions', 'negative token id', { prompt: [1, -2] }, 'prompt[1]', undefined],
    ['completions', 'zero max_tokens', { prompt: 'hi', max_tokens: 0 }, 'max_tokens', undefined],
    ['completions', 'echo', { prompt: 'hi', echo: true }, 'echo', undefined],
  ])('%s: %s', async (endpoint, _name, body, param, message) => {
    const path = endpoint === 'chat' ? '/v1/chat/completions' : '/v1/completions';
    const response = await postJson(`${server.url}${path}`, body);
    expect(response.status).toBe(400);
    const payload = (await response.json()) as {
      error: { message: string; type: string; param: string | null; code: unknown };
    };
    expect(payload.error.type).toBe('invalid_request_error');
    expect(payload.error.param).toBe(param);
    expect(payload.error.message.length).toBeGreaterThan(0);
    if (param) expect(payload.error.message).toContain(param);
    if (message) expect(payload.error.message).toMatch(message);
  });

  it('keeps serving afterwards', async () => {
    const response = await postJson(`${server.url}/v1/chat/completions`, { ...ok, max_tokens: 2 });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { usage: { completion_tokens: number } };
    expect(body.usage.completion_tokens).toBe(2);
  });

  it('answers unknown routes with a 404 in the same shape', async () => {
    const response = await fetch(`${server.url}/v1/embeddings`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: expect.objectContaining({ type: 'not_found_error' }),
    });
  });
});
