import { MODEL } from './support/fake-chat-service.js';
import {
  GatewayWorld,
  postJson,
  sseText,
  type TestGateway,
  type TestTenant,
} from './support/gateway-world.js';

interface Completion {
  id: string;
  choices: { message: { content: string } }[];
}

describe('response cache for deterministic requests (Redis)', () => {
  let world: GatewayWorld;
  let gateway: TestGateway;
  let tenant: TestTenant;

  beforeAll(async () => {
    world = await GatewayWorld.create();
    gateway = await world.startGateway();
    tenant = await world.createTenant(gateway);
  });

  afterAll(async () => {
    await world.cleanup();
  });

  const complete = (
    content: string,
    extra: Record<string, unknown> = {},
    headers: Record<string, string> = {},
    apiKey = tenant.apiKey,
  ): Promise<Response> =>
    postJson(
      `${gateway.baseUrl}/v1/chat/completions`,
      apiKey,
      { model: MODEL.default, messages: [{ role: 'user', content }], ...extra },
      headers,
    );
  const routerTurns = (content: string): number =>
    world.router.turns.filter((t) => t.request.messages.some((m) => m.content === content)).length;

  it('serves a repeated temperature-0 request from the cache, streamed or not', async () => {
    const miss = await complete('cache me', { temperature: 0 });
    expect(miss.headers.get('x-spillway-cache')).toBe('miss');
    const original = (await miss.json()) as Completion;

    const hit = await complete('cache me', { temperature: 0 });
    expect(hit.headers.get('x-spillway-cache')).toBe('hit');
    expect(await hit.json()).toMatchObject({
      id: original.id,
      choices: [{ message: { content: 'Echo: cache me' } }],
    });

    const streamedHit = await complete('cache me', {
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(streamedHit.headers.get('x-spillway-cache')).toBe('hit');
    expect(sseText(await streamedHit.text())).toBe('Echo: cache me');
    expect(routerTurns('cache me')).toBe(1);
  });

  it.each([
    ['Cache-Control: no-cache', { 'cache-control': 'no-cache' }],
    ['x-spillway-cache: bypass', { 'x-spillway-cache': 'bypass' }],
  ])('bypasses the cache with %s', async (_label, headers) => {
    const content = `bypass ${JSON.stringify(headers)}`;
    await complete(content, { temperature: 0 });
    const bypassed = await complete(content, { temperature: 0 }, headers);
    expect(bypassed.headers.get('x-spillway-cache')).toBe('bypass');
    expect(routerTurns(content)).toBe(2);
  });

  it('keys on everything that changes the reply, per tenant, and skips non-deterministic requests', async () => {
    await complete('keyed', { temperature: 0 });
    expect(
      (await complete('keyed', { temperature: 0, max_tokens: 1 })).headers.get('x-spillway-cache'),
    ).toBe('miss');
    const other = await world.createTenant(gateway);
    expect(
      (await complete('keyed', { temperature: 0 }, {}, other.apiKey)).headers.get(
        'x-spillway-cache',
      ),
    ).toBe('miss');
    const sampled = await complete('keyed', { temperature: 0.8 });
    expect(sampled.headers.get('x-spillway-cache')).toBeNull();
    expect(routerTurns('keyed')).toBe(4);
  });

  it('exports hit and miss counts on /metrics', async () => {
    const metrics = await (await fetch(`${gateway.baseUrl}/metrics`)).text();
    const count = (result: string): number =>
      Number(
        new RegExp(`gateway_cache_lookups_total\\{result="${result}"\\} (\\d+)`).exec(
          metrics,
        )?.[1] ?? 0,
      );
    expect(count('hit')).toBeGreaterThanOrEqual(2);
    expect(count('miss')).toBeGreaterThanOrEqual(3);
    expect(count('bypass')).toBeGreaterThanOrEqual(2);
  });
});
