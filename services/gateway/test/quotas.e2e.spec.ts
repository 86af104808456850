import { setTimeout as sleep } from 'node:timers/promises';
import { MODEL } from './support/fake-chat-service.js';
import { startGatewayProcess, type GatewayProcess } from './support/gateway-process.js';
import { GatewayWorld, postJson } from './support/gateway-world.js';

/**
 * Two gateway replicas (built dist, separate processes) share one Redis: a tenant's quota is one
 * budget whichever replica a request lands on, and Retry-After says when it will fit again.
 */
describe('quotas across two gateway replicas sharing Redis', () => {
  let world: GatewayWorld;
  let replicaA: GatewayProcess;
  let replicaB: GatewayProcess;

  beforeAll(async () => {
    world = await GatewayWorld.create();
    // Replica A migrates the database first; B finds it ready.
    replicaA = await startGatewayProcess(world.env(), 'gateway-a');
    replicaB = await startGatewayProcess(world.env(), 'gateway-b');
  });

  afterAll(async () => {
    await replicaA.handle.stop();
    await replicaB.handle.stop();
    await world.cleanup();
  });

  async function createTenant(rpm: number, tpm: number): Promise<string> {
    const admin = { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' };
    const name = `quota-${Math.random().toString(36).slice(2, 8)}`;
    const tenant = await fetch(`${replicaA.baseUrl}/admin/v1/tenants`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({
        name,
        tier: 'standard',
        requests_per_minute: rpm,
        tokens_per_minute: tpm,
      }),
    });
    expect(tenant.status).toBe(201);
    const key = await fetch(`${replicaB.baseUrl}/admin/v1/tenants/${name}/keys`, {
      method: 'POST',
      headers: admin,
      body: '{}',
    });
    return ((await key.json()) as { api_key: string }).api_key;
  }

  const complete = (
    replica: GatewayProcess,
    apiKey: string,
    content: string,
    maxTokens: number,
  ): Promise<Response> =>
    postJson(`${replica.baseUrl}/v1/chat/completions`, apiKey, {
      model: MODEL.default,
      messages: [{ role: 'user', content }],
      max_tokens: maxTokens,
    });

  it('counts requests per minute across replicas and answers 429 with Retry-After from the bucket', async () => {
    const apiKey = await createTenant(3, 1_000_000);
    const remaining: (string | null)[] = [];
    for (const replica of [replicaA, replicaB, replicaA]) {
      const response = await complete(replica, apiKey, 'hi', 5);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-ratelimit-limit-requests')).toBe('3');
      remaining.push(response.headers.get('x-ratelimit-remaining-requests'));
    }
    // One bucket: each replica saw the others' requests.
    expect(remaining).toEqual(['2', '1', '0']);

    for (const replica of [replicaB, replicaA]) {
      const refused = await complete(replica, apiKey, 'hi', 5);
      expect(refused.status).toBe(429);
      // 3 per minute refills one request every 20 s; a little of that has passed already.
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(15);
      expect(retryAfter).toBeLessThanOrEqual(20);
      expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('0');
      expect(refused.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+(\.\d+)?s$/);
      expect(await refused.json()).toMatchObject({
        error: {
          type: 'rate_limit_error',
          code: 'rate_limit_exceeded',
          message: expect.stringContaining('3 requests per minute'),
        },
      });
    }
  });

  it('reserves tokens at admission, settles the real usage, and a client that waits Retry-After gets in', async () => {
    // 6 000 tokens per minute = 100 per second.
    const apiKey = await createTenant(1_000, 6_000);
    const prompt = Array.from({ length: 1_000 }, () => 'w').join(' ');
    // Estimated 507 prompt + 20 reserved; the router reports 1 000 + 20 = 1 020 used.
    const first = await complete(replicaA, apiKey, prompt, 20);
    expect(first.status).toBe(200);
    expect(((await first.json()) as { usage: { total_tokens: number } }).usage.total_tokens).toBe(
      1_020,
    );

    // Needs 507 + 5 000 = 5 507; about 4 980 are left once the first turn settled its real usage.
    const refused = await complete(replicaB, apiKey, prompt, 5_000);
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({
      error: { message: expect.stringContaining('6000 tokens per minute') },
    });
    const retryAfter = Number(refused.headers.get('retry-after'));
    // (5 507 - 4 980) / 100 per s = 5.3 s, so 6; without settling the overrun it would be 1.
    expect(retryAfter).toBeGreaterThanOrEqual(5);
    expect(retryAfter).toBeLessThanOrEqual(6);
    expect(Number(refused.headers.get('x-ratelimit-remaining-tokens'))).toBeLessThan(5_100);
    expect(refused.headers.get('x-ratelimit-limit-tokens')).toBe('6000');

    await sleep(retryAfter * 1000);
    const retried = await complete(replicaA, apiKey, prompt, 5_000);
    expect(retried.status).toBe(200);
  });

  it('refuses with 400 a request that can never fit the tenant token limit', async () => {
    const apiKey = await createTenant(1_000, 100);
    const response = await complete(replicaA, apiKey, 'hello', 500);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: { param: 'max_tokens', code: 'exceeds_token_limit' },
    });
  });
});
