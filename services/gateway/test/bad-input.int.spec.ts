import { MODEL } from './support/fake-chat-service.js';
import { GatewayWorld, type TestGateway, type TestTenant } from './support/gateway-world.js';
import { rawRequest } from './support/raw-http.js';

/**
 * Malformed and hostile requests: each gets the right 4xx, in OpenAI's error shape, with `param`
 * naming the field (or header) and a message saying what was wrong; the gateway keeps serving.
 */

type Body = string | Buffer | Record<string, unknown> | unknown[];

interface BadRequest {
  readonly name: string;
  readonly method?: 'GET' | 'POST';
  readonly path?: string;
  /** Objects are sent as JSON; strings and Buffers as they are. */
  readonly body?: Body;
  readonly headers?: Record<string, string>;
  /** false: no Authorization header. */
  readonly auth?: boolean;
  /** Bytes sent over a raw socket instead (for what fetch refuses to send); `{key}` is replaced. */
  readonly raw?: string;
  readonly status: number;
  /** The field the error names; null when the error is about no field. */
  readonly param?: string | null;
  readonly message: RegExp;
}

const ok = { model: MODEL.default, messages: [{ role: 'user', content: 'hi' }] };
const chat = (overrides: Record<string, unknown>): Record<string, unknown> => ({
  ...ok,
  ...overrides,
});
const msg = (overrides: Record<string, unknown>): Record<string, unknown> =>
  chat({ messages: [{ role: 'user', content: 'hi', ...overrides }] });
const json = (text: string): Buffer => Buffer.from(text, 'utf8');
const rawPost = (headers: string, body = '{}'): string =>
  `POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\n${headers}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

const CASES: BadRequest[] = [
  // Body framing and encoding
  {
    name: 'truncated JSON',
    body: '{"model":',
    status: 400,
    param: 'body',
    message: /not valid JSON/,
  },
  {
    name: 'JSON with trailing garbage',
    body: '{"model":"x"} trailing',
    status: 400,
    param: 'body',
    message: /not valid JSON/,
  },
  { name: 'empty JSON body', body: '', status: 400, param: 'body', message: /empty/ },
  {
    name: 'body is a JSON array',
    body: [],
    status: 400,
    param: 'body',
    message: /must be a JSON object/,
  },
  {
    name: 'body is a JSON string',
    body: '"hello"',
    status: 400,
    param: 'body',
    message: /must be a JSON object/,
  },
  {
    name: 'body is null',
    body: 'null',
    status: 400,
    param: 'body',
    message: /must be a JSON object/,
  },
  {
    name: 'invalid UTF-8 byte',
    body: Buffer.concat([json('{"model":"'), Buffer.from([0xff, 0xfe]), json('"}')]),
    status: 400,
    param: 'body',
    message: /not valid UTF-8.*offset 10/,
  },
  {
    name: 'overlong UTF-8 encoding',
    body: Buffer.concat([json('{"model":"'), Buffer.from([0xc0, 0xaf]), json('"}')]),
    status: 400,
    param: 'body',
    message: /not valid UTF-8/,
  },
  {
    name: 'truncated UTF-8 sequence',
    body: Buffer.concat([json('{"model":"'), Buffer.from([0xe2, 0x82]), json('"}')]),
    status: 400,
    param: 'body',
    message: /not valid UTF-8/,
  },
  {
    name: 'UTF-16 charset',
    body: '{}',
    headers: { 'content-type': 'application/json; charset=utf-16' },
    status: 400,
    param: 'Content-Type',
    message: /charset 'utf-16'/,
  },
  {
    name: 'text/plain body',
    body: 'hello',
    headers: { 'content-type': 'text/plain' },
    status: 415,
    param: 'Content-Type',
    message: /application\/json/,
  },
  {
    name: 'form-encoded body',
    body: 'model=x',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 415,
    param: 'Content-Type',
    message: /application\/json/,
  },
  {
    name: 'body larger than the limit',
    body: `{"model":"${'a'.repeat(1_100_000)}"}`,
    status: 413,
    param: 'body',
    message: /larger than the 1048576-byte limit/,
  },
  {
    name: '__proto__ key (prototype poisoning)',
    body: '{"model":"x","__proto__":{"admin":true}}',
    status: 400,
    param: '__proto__',
    message: /not allowed/,
  },
  // model
  {
    name: 'missing model',
    body: { messages: ok.messages },
    status: 400,
    param: 'model',
    message: /model.*required/,
  },
  {
    name: 'model is a number',
    body: chat({ model: 42 }),
    status: 400,
    param: 'model',
    message: /must be a string/,
  },
  {
    name: 'empty model',
    body: chat({ model: '' }),
    status: 400,
    param: 'model',
    message: /must not be empty/,
  },
  {
    name: 'absurdly long model',
    body: chat({ model: 'm'.repeat(300) }),
    status: 400,
    param: 'model',
    message: /at most 256/,
  },
  {
    name: 'unknown model',
    body: chat({ model: 'gpt-17' }),
    status: 404,
    param: 'model',
    message: /'gpt-17' does not exist/,
  },
  // messages
  {
    name: 'missing messages',
    body: { model: MODEL.default },
    status: 400,
    param: 'messages',
    message: /messages.*required/,
  },
  {
    name: 'messages is a string',
    body: chat({ messages: 'hi' }),
    status: 400,
    param: 'messages',
    message: /array of messages/,
  },
  {
    name: 'no messages',
    body: chat({ messages: [] }),
    status: 400,
    param: 'messages',
    message: /at least one message/,
  },
  {
    name: 'too many messages',
    body: chat({ messages: Array.from({ length: 257 }, () => ({ role: 'user', content: 'x' })) }),
    status: 400,
    param: 'messages',
    message: /at most 256 messages/,
  },
  {
    name: 'message is a string',
    body: chat({ messages: ['hi'] }),
    status: 400,
    param: 'messages[0]',
    message: /expected object/,
  },
  {
    name: 'message without role',
    body: chat({ messages: [{ content: 'hi' }] }),
    status: 400,
    param: 'messages[0].role',
    message: /must be a string/,
  },
  {
    name: 'role is a number',
    body: msg({ role: 1 }),
    status: 400,
    param: 'messages[0].role',
    message: /must be a string/,
  },
  {
    name: 'tool role',
    body: msg({ role: 'tool' }),
    status: 400,
    param: 'messages[0].role',
    message: /'tool' is not supported/,
  },
  {
    name: 'unknown role',
    body: msg({ role: 'wizard' }),
    status: 400,
    param: 'messages[0].role',
    message: /one of system, developer, user, assistant; got "wizard"/,
  },
  {
    name: 'empty user content',
    body: msg({ content: '' }),
    status: 400,
    param: 'messages[0].content',
    message: /must not be empty/,
  },
  {
    name: 'whitespace-only content',
    body: msg({ content: ' \n\t ' }),
    status: 400,
    param: 'messages[0].content',
    message: /must not be empty/,
  },
  {
    name: 'null content',
    body: msg({ content: null }),
    status: 400,
    param: 'messages[0].content',
    message: /string or an array/,
  },
  {
    name: 'numeric content',
    body: msg({ content: 7 }),
    status: 400,
    param: 'messages[0].content',
    message: /string or an array/,
  },
  {
    name: 'image content part',
    body: msg({ content: [{ type: 'image_url', image_url: { url: 'http://x' } }] }),
    status: 400,
    param: 'messages[0].content[0].type',
    message: /"image_url" is not supported/,
  },
  {
    name: 'text part without text',
    body: msg({ content: [{ type: 'text' }] }),
    status: 400,
    param: 'messages[0].content[0].text',
    message: /must be a string/,
  },
  {
    name: 'content over the length limit',
    body: msg({ content: 'x'.repeat(70_000) }),
    status: 400,
    param: 'messages[0].content',
    message: /70000 characters long; the limit is 65536/,
  },
  {
    name: 'unpaired surrogate',
    body: '{"model":"spillway-test-1","messages":[{"role":"user","content":"bad \\ud800 text"}]}',
    status: 400,
    param: 'messages[0].content',
    message: /unpaired UTF-16 surrogate/,
  },
  {
    name: 'unknown key in a message',
    body: msg({ tool_calls: [] }),
    status: 400,
    param: 'messages[0].tool_calls',
    message: /Unrecognized request argument/,
  },
  {
    name: 'invalid author name',
    body: msg({ name: 'no spaces allowed' }),
    status: 400,
    param: 'messages[0].name',
    message: /1-64 characters/,
  },
  {
    name: 'unknown top-level field',
    body: chat({ temprature: 0.5 }),
    status: 400,
    param: 'temprature',
    message: /Unrecognized request argument supplied: 'temprature'/,
  },
  // sampling parameters
  {
    name: 'temperature as a string',
    body: chat({ temperature: '0.5' }),
    status: 400,
    param: 'temperature',
    message: /must be a number/,
  },
  {
    name: 'negative temperature',
    body: chat({ temperature: -1 }),
    status: 400,
    param: 'temperature',
    message: /between 0 and 2/,
  },
  {
    name: 'temperature above 2',
    body: chat({ temperature: 3 }),
    status: 400,
    param: 'temperature',
    message: /between 0 and 2/,
  },
  {
    name: 'temperature overflowing to Infinity',
    body: '{"model":"spillway-test-1","messages":[{"role":"user","content":"hi"}],"temperature":1e400}',
    status: 400,
    param: 'temperature',
    message: /must be a number/,
  },
  {
    name: 'top_p of 0',
    body: chat({ top_p: 0 }),
    status: 400,
    param: 'top_p',
    message: /greater than 0/,
  },
  {
    name: 'top_p above 1',
    body: chat({ top_p: 1.5 }),
    status: 400,
    param: 'top_p',
    message: /at most 1/,
  },
  {
    name: 'max_tokens of 0',
    body: chat({ max_tokens: 0 }),
    status: 400,
    param: 'max_tokens',
    message: /at least 1/,
  },
  {
    name: 'negative max_tokens',
    body: chat({ max_tokens: -5 }),
    status: 400,
    param: 'max_tokens',
    message: /at least 1/,
  },
  {
    name: 'fractional max_tokens',
    body: chat({ max_tokens: 1.5 }),
    status: 400,
    param: 'max_tokens',
    message: /integer/,
  },
  {
    name: 'absurd max_tokens',
    body: chat({ max_tokens: 1_000_000_000 }),
    status: 400,
    param: 'max_tokens',
    message: /at most 32768/,
  },
  {
    name: 'conflicting max_completion_tokens',
    body: chat({ max_tokens: 10, max_completion_tokens: 20 }),
    status: 400,
    param: 'max_completion_tokens',
    message: /differs from max_tokens/,
  },
  {
    name: 'n = 2',
    body: chat({ n: 2 }),
    status: 400,
    param: 'n',
    message: /only n=1 is supported/,
  },
  {
    name: 'five stop sequences',
    body: chat({ stop: ['a', 'b', 'c', 'd', 'e'] }),
    status: 400,
    param: 'stop',
    message: /array of up to 4 strings/,
  },
  {
    name: 'numeric stop',
    body: chat({ stop: 5 }),
    status: 400,
    param: 'stop',
    message: /string or an array/,
  },
  {
    name: 'negative seed',
    body: chat({ seed: -1 }),
    status: 400,
    param: 'seed',
    message: /non-negative/,
  },
  {
    name: 'fractional seed',
    body: chat({ seed: 1.5 }),
    status: 400,
    param: 'seed',
    message: /integer/,
  },
  {
    name: 'presence_penalty out of range',
    body: chat({ presence_penalty: 5 }),
    status: 400,
    param: 'presence_penalty',
    message: /between -2 and 2/,
  },
  {
    name: 'frequency_penalty as a word',
    body: chat({ frequency_penalty: 'high' }),
    status: 400,
    param: 'frequency_penalty',
    message: /must be a number/,
  },
  {
    name: 'stream as a string',
    body: chat({ stream: 'yes' }),
    status: 400,
    param: 'stream',
    message: /must be a boolean/,
  },
  {
    name: 'stream_options without stream',
    body: chat({ stream_options: { include_usage: true } }),
    status: 400,
    param: 'stream_options',
    message: /only allowed when stream is true/,
  },
  {
    name: 'tools',
    body: chat({ tools: [{ type: 'function', function: { name: 'f' } }] }),
    status: 400,
    param: 'tools',
    message: /tools is not supported/,
  },
  {
    name: 'logprobs',
    body: chat({ logprobs: true }),
    status: 400,
    param: 'logprobs',
    message: /not supported/,
  },
  {
    name: 'json response_format',
    body: chat({ response_format: { type: 'json_object' } }),
    status: 400,
    param: 'response_format.type',
    message: /"json_object" is not supported/,
  },
  {
    name: 'absurdly long user',
    body: chat({ user: 'u'.repeat(1_000) }),
    status: 400,
    param: 'user',
    message: /at most 256/,
  },
  // size against the model and the tenant
  {
    name: 'prompt over the model context window',
    body: chat({ model: MODEL.small, messages: [{ role: 'user', content: 'x'.repeat(2_000) }] }),
    status: 400,
    param: 'messages',
    message: /context window is 256 tokens/,
  },
  {
    name: 'max_tokens over the model context window',
    body: chat({ model: MODEL.small, max_tokens: 1_000 }),
    status: 400,
    param: 'max_tokens',
    message: /context window is 256 tokens/,
  },
  {
    name: 'more tokens than the tenant may ever use',
    body: chat({ max_tokens: 8_000 }),
    status: 400,
    param: 'max_tokens',
    message: /limit of 5000 tokens per minute; it can never be admitted/,
  },
  // authentication
  {
    name: 'missing Authorization',
    body: ok,
    auth: false,
    status: 401,
    param: null,
    message: /Missing API key/,
  },
  {
    name: 'malformed bearer token',
    body: ok,
    auth: false,
    headers: { authorization: 'Bearer sk-123' },
    status: 401,
    param: null,
    message: /Malformed API key/,
  },
  {
    name: 'unknown key',
    body: ok,
    auth: false,
    headers: { authorization: `Bearer sk-spw-${'Z'.repeat(52)}` },
    status: 401,
    param: null,
    message: /Incorrect or revoked API key/,
  },
  // headers
  {
    name: 'Idempotency-Key with a space',
    body: ok,
    headers: { 'idempotency-key': 'two words' },
    status: 400,
    param: 'Idempotency-Key',
    message: /printable ASCII/,
  },
  {
    name: 'oversized Idempotency-Key',
    body: ok,
    headers: { 'idempotency-key': 'k'.repeat(300) },
    status: 400,
    param: 'Idempotency-Key',
    message: /1-255/,
  },
  {
    name: 'encoded CRLF in the affinity header',
    body: ok,
    headers: { 'x-spillway-conversation-id': 'abc%0d%0aSet-Cookie:x' },
    status: 400,
    param: 'x-spillway-conversation-id',
    message: /must be 1-128 characters/,
  },
  {
    name: 'non-ASCII affinity header',
    body: ok,
    headers: { 'x-spillway-conversation-id': 'caf\u00e9' },
    status: 400,
    param: 'x-spillway-conversation-id',
    message: /must be 1-128 characters/,
  },
  {
    name: 'unknown cache directive',
    body: ok,
    headers: { 'x-spillway-cache': 'maybe' },
    status: 400,
    param: 'x-spillway-cache',
    message: /"use" or "bypass"/,
  },
  {
    name: 'CR injected into a header value (raw)',
    raw: rawPost('X-Note: one\rSet-Cookie: evil=1\r\n'),
    status: 400,
    param: 'headers',
    message: /must not contain CR, LF/,
  },
  {
    name: 'LF-folded header continuation (raw)',
    raw: rawPost('X-Note: one\r\n folded: two\r\n'),
    status: 400,
    param: 'headers',
    message: /Malformed/,
  },
  {
    name: 'control character in a header value (raw)',
    raw: rawPost('X-Note: a\u0001b\r\n'),
    status: 400,
    param: 'headers',
    message: /control characters/,
  },
  {
    name: 'space in a header name (raw)',
    raw: rawPost('Bad Header: x\r\n'),
    status: 400,
    param: 'headers',
    message: /Malformed request header/,
  },
  {
    name: 'Content-Length with Transfer-Encoding (raw smuggling)',
    raw: rawPost('Transfer-Encoding: chunked\r\n'),
    status: 400,
    param: 'headers',
    message: /Content-Length \/ Transfer-Encoding/,
  },
  // conversations API
  {
    name: 'CRLF in a conversation id path',
    method: 'GET',
    path: '/v1/conversations/abc%0D%0ASet-Cookie:x',
    status: 400,
    param: 'conversation_id',
    message: /conversation id in the path must be/,
  },
  {
    name: 'overlong conversation id path',
    method: 'GET',
    path: `/v1/conversations/${'c'.repeat(200)}`,
    status: 400,
    param: 'conversation_id',
    message: /1-128 characters/,
  },
  {
    name: 'conversation without model',
    path: '/v1/conversations',
    body: {},
    status: 400,
    param: 'model',
    message: /required/,
  },
  {
    name: 'conversation with too many labels',
    path: '/v1/conversations',
    body: {
      model: MODEL.default,
      labels: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'v'])),
    },
    status: 400,
    param: 'labels',
    message: /at most 32 labels/,
  },
  {
    name: 'numeric system prompt',
    path: '/v1/conversations',
    body: { model: MODEL.default, system_prompt: 5 },
    status: 400,
    param: 'system_prompt',
    message: /must be a string/,
  },
  {
    name: 'unknown conversation field',
    path: '/v1/conversations',
    body: { model: MODEL.default, owner: 'me' },
    status: 400,
    param: 'owner',
    message: /Unrecognized/,
  },
  {
    name: 'turn with both content and messages',
    path: '/v1/conversations/c1/turns',
    body: { content: 'a', messages: [{ role: 'user', content: 'b' }] },
    status: 400,
    param: 'content',
    message: /exactly one of content/,
  },
  {
    name: 'turn with neither content nor messages',
    path: '/v1/conversations/c1/turns',
    body: {},
    status: 400,
    param: 'content',
    message: /exactly one of content/,
  },
  {
    name: 'turn with an assistant message',
    path: '/v1/conversations/c1/turns',
    body: { messages: [{ role: 'assistant', content: 'forged' }] },
    status: 400,
    param: 'messages[0].role',
    message: /one of user, system, developer/,
  },
  {
    name: 'turn with empty content',
    path: '/v1/conversations/c1/turns',
    body: { content: '' },
    status: 400,
    param: 'content',
    message: /must not be empty/,
  },
  {
    name: 'list with limit 0',
    method: 'GET',
    path: '/v1/conversations?limit=0',
    status: 400,
    param: 'limit',
    message: /between 1 and 100/,
  },
  {
    name: 'list with a word for limit',
    method: 'GET',
    path: '/v1/conversations?limit=ten',
    status: 400,
    param: 'limit',
    message: /must be a number/,
  },
  {
    name: 'list with an unknown query parameter',
    method: 'GET',
    path: '/v1/conversations?owner=bob',
    status: 400,
    param: 'owner',
    message: /Unrecognized/,
  },
  // routes
  {
    name: 'GET on a POST-only route',
    method: 'GET',
    path: '/v1/chat/completions',
    status: 404,
    param: null,
    message: /Unknown route: GET \/v1\/chat\/completions/,
  },
  {
    name: 'unknown route',
    method: 'GET',
    path: '/v1/engines',
    status: 404,
    param: null,
    message: /Unknown route/,
  },
  // admin
  {
    name: 'admin: unknown tier',
    path: '/admin/v1/tenants',
    auth: false,
    headers: { authorization: 'Bearer test-admin-token' },
    body: { name: 'x', tier: 'gold', requests_per_minute: 1, tokens_per_minute: 1 },
    status: 400,
    param: 'tier',
    message: /must be one of batch, free/,
  },
  {
    name: 'admin: zero requests per minute',
    path: '/admin/v1/tenants',
    auth: false,
    headers: { authorization: 'Bearer test-admin-token' },
    body: { name: 'x', tier: 'free', requests_per_minute: 0, tokens_per_minute: 1 },
    status: 400,
    param: 'requests_per_minute',
    message: /requests_per_minute/,
  },
];

describe('bad input: malformed and hostile requests', () => {
  let world: GatewayWorld;
  let gateway: TestGateway;
  let tenant: TestTenant;

  beforeAll(async () => {
    world = await GatewayWorld.create();
    gateway = await world.startGateway();
    tenant = await world.createTenant(gateway, { tpm: 5_000 });
  });

  afterAll(async () => {
    await world.cleanup();
  });

  it('has at least 50 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(50);
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
    let status: number;
    let bodyText: string;
    if (testCase.raw !== undefined) {
      ({ status, body: bodyText } = await rawRequest(
        gateway.baseUrl,
        testCase.raw.replace('{key}', tenant.apiKey),
      ));
    } else {
      const method = testCase.method ?? 'POST';
      const headers: Record<string, string> = {};
      if (testCase.auth !== false) headers.authorization = `Bearer ${tenant.apiKey}`;
      let body: string | Buffer | undefined;
      if (testCase.body !== undefined) {
        headers['content-type'] = 'application/json';
        body =
          typeof testCase.body === 'string' || Buffer.isBuffer(testCase.body)
            ? testCase.body
            : JSON.stringify(testCase.body);
      }
      Object.assign(headers, testCase.headers);
      const response = await fetch(`${gateway.baseUrl}${testCase.path ?? '/v1/chat/completions'}`, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
      });
      status = response.status;
      bodyText = await response.text();
    }
    expect({ status, body: bodyText }).toMatchObject({ status: testCase.status });
    const error = (
      JSON.parse(bodyText) as {
        error: { message: string; type: string; param: string | null; code: string | null };
      }
    ).error;
    expect(error.type).toEqual(expect.any(String));
    expect(error.message).toMatch(testCase.message);
    if (testCase.param !== undefined) expect(error.param).toBe(testCase.param);
  });

  it('keeps serving after all of that', async () => {
    expect((await fetch(`${gateway.baseUrl}/healthz`)).status).toBe(200);
    const response = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(ok),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      choices: [{ message: { content: 'Echo: hi' } }],
    });
    expect(world.logged.filter((entry) => entry.message.includes('request failed'))).toEqual([]);
  });
});
