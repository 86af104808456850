import { common } from '@spillway/contracts';
import { waitFor } from '@spillway/testing';
import { MODEL, TRIGGER } from './support/fake-chat-service.js';
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

describe('Idempotency-Key on turn submission (Redis)', () => {
  let world: GatewayWorld;
  let gateway: TestGateway;
  let tenant: TestTenant;
  let keyCounter = 0;
  const newKey = (): string => `idem-${Date.now()}-${(keyCounter += 1)}`;

  beforeAll(async () => {
    world = await GatewayWorld.create();
    gateway = await world.startGateway();
    tenant = await world.createTenant(gateway);
  });

  afterAll(async () => {
    world.router.releaseHeld();
    await world.cleanup();
  });

  const complete = (
    key: string,
    content: string,
    extra: Record<string, unknown> = {},
    apiKey = tenant.apiKey,
    target = gateway,
  ): Promise<Response> =>
    postJson(
      `${target.baseUrl}/v1/chat/completions`,
      apiKey,
      { model: MODEL.default, messages: [{ role: 'user', content }], ...extra },
      { 'idempotency-key': key },
    );

  const routerTurns = (content: string): number =>
    world.router.turns.filter((t) => t.request.messages.some((m) => m.content === content)).length;

  it('returns the original response to a retry, streamed or not, without a second turn', async () => {
    const key = newKey();
    const first = await complete(key, 'only once');
    expect(first.status).toBe(200);
    expect(first.headers.get('x-spillway-idempotent-replay')).toBeNull();
    const original = (await first.json()) as Completion;

    const retry = await complete(key, 'only once');
    expect(retry.status).toBe(200);
    expect(retry.headers.get('x-spillway-idempotent-replay')).toBe('true');
    expect(await retry.json()).toMatchObject({
      id: original.id,
      choices: [{ message: { content: 'Echo: only once' } }],
    });

    const streamedRetry = await complete(key, 'only once', { stream: true });
    expect(streamedRetry.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(sseText(await streamedRetry.text())).toBe('Echo: only once');

    expect(routerTurns('only once')).toBe(1);
    expect(world.router.turns.find((t) => t.request.idempotencyKey === key)).toBeDefined();
  });

  it('refuses the same key with a different request (422) and keeps keys per tenant', async () => {
    const key = newKey();
    expect((await complete(key, 'original body')).status).toBe(200);
    const reused = await complete(key, 'another body');
    expect(reused.status).toBe(422);
    expect(await reused.json()).toMatchObject({
      error: { param: 'Idempotency-Key', code: 'idempotency_key_reused' },
    });

    const other = await world.createTenant(gateway);
    const sameKeyOtherTenant = await complete(key, 'original body', {}, other.apiKey);
    expect(sameKeyOtherTenant.status).toBe(200);
    expect(sameKeyOtherTenant.headers.get('x-spillway-idempotent-replay')).toBeNull();
    expect(routerTurns('original body')).toBe(2);
  });

  it('makes a concurrent duplicate wait for the original and get its response', async () => {
    const key = newKey();
    const content = `concurrent ${TRIGGER.hold}`;
    const original = complete(key, content, { stream: true });
    await waitFor(() => world.router.heldCount === 1, {
      description: 'the original turn to be held',
    });
    const duplicate = complete(key, content);
    // The duplicate is waiting on the original, not running a turn of its own.
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(routerTurns(content)).toBe(1);
    world.router.releaseHeld();
    const [first, second] = await Promise.all([original, duplicate]);
    expect(sseText(await first.text())).toBe(`Echo: concurrent ${TRIGGER.hold}`);
    expect(second.status).toBe(200);
    expect(second.headers.get('x-spillway-idempotent-replay')).toBe('true');
    expect(((await second.json()) as Completion).choices[0]!.message.content).toBe(
      `Echo: concurrent ${TRIGGER.hold}`,
    );
    expect(routerTurns(content)).toBe(1);
  });

  it('answers 409 to a duplicate that waited longer than GATEWAY_IDEMPOTENCY_WAIT_MS', async () => {
    const impatient = await world.startGateway({ GATEWAY_IDEMPOTENCY_WAIT_MS: '100' });
    const key = newKey();
    const content = `slow original ${TRIGGER.hold}`;
    const original = complete(key, content, { stream: true }, tenant.apiKey, impatient);
    await waitFor(() => world.router.heldCount === 1, {
      description: 'the original turn to be held',
    });
    const duplicate = await complete(key, content, {}, tenant.apiKey, impatient);
    expect(duplicate.status).toBe(409);
    expect(await duplicate.json()).toMatchObject({
      error: { param: 'Idempotency-Key', code: 'idempotency_key_in_use' },
    });
    world.router.releaseHeld();
    expect((await original).status).toBe(200);
  });

  it('frees the key when the turn was refused, so the retry runs', async () => {
    const key = newKey();
    const free = await world.createTenant(gateway, { tier: 'free' });
    world.router.shedBelow = common.Priority.PRIORITY_STANDARD;
    world.router.shedRetryAfterMs = 0;
    try {
      expect((await complete(key, 'refused first', {}, free.apiKey)).status).toBe(429);
    } finally {
      world.router.shedBelow = common.Priority.PRIORITY_UNSPECIFIED;
    }
    const retry = await complete(key, 'refused first', {}, free.apiKey);
    expect(retry.status).toBe(200);
    expect(retry.headers.get('x-spillway-idempotent-replay')).toBeNull();
  });

  it('does not append a retried conversation turn twice', async () => {
    const created = await postJson(`${gateway.baseUrl}/v1/conversations`, tenant.apiKey, {
      model: MODEL.default,
    });
    const { id } = (await created.json()) as { id: string };
    const key = newKey();
    for (let i = 0; i < 3; i += 1) {
      const turn = await postJson(
        `${gateway.baseUrl}/v1/conversations/${id}/turns`,
        tenant.apiKey,
        { content: 'append me once' },
        { 'idempotency-key': key },
      );
      expect(turn.status).toBe(200);
    }
    const conversation = (await (
      await fetch(`${gateway.baseUrl}/v1/conversations/${id}`, {
        headers: { authorization: `Bearer ${tenant.apiKey}` },
      })
    ).json()) as {
      messages: unknown[];
    };
    expect(conversation.messages).toHaveLength(2);
  });
});
