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

describe('priority tiers and admission control', () => {
  let world: GatewayWorld;

  beforeAll(async () => {
    world = await GatewayWorld.create();
  });

  afterAll(async () => {
    world.router.releaseHeld();
    await world.cleanup();
  });

  const complete = (
    gateway: TestGateway,
    tenant: TestTenant,
    content: string,
    stream = false,
  ): Promise<Response> =>
    postJson(`${gateway.baseUrl}/v1/chat/completions`, tenant.apiKey, {
      model: MODEL.default,
      messages: [{ role: 'user', content }],
      stream,
    });

  describe('local concurrency: each tier fills only its share, the rest is kept for higher tiers', () => {
    let gateway: TestGateway;
    let free: TestTenant;
    let standard: TestTenant;
    let premium: TestTenant;
    let enterprise: TestTenant;

    beforeAll(async () => {
      // 4 slots: free (low) may use 2, standard 3, premium (high) 3, enterprise (critical) all 4.
      gateway = await world.startGateway({
        GATEWAY_MAX_CONCURRENT_TURNS: '4',
        GATEWAY_DRAIN_WINDOW_MS: '60000',
      });
      free = await world.createTenant(gateway, { tier: 'free' });
      standard = await world.createTenant(gateway, { tier: 'standard' });
      premium = await world.createTenant(gateway, { tier: 'premium' });
      enterprise = await world.createTenant(gateway, { tier: 'enterprise' });
    });

    it('sheds the low tier first with a Retry-After from the drain rate, while higher tiers are still served', async () => {
      // Five finished turns in the 60 s window: the gateway drains 5/60 turns per second.
      for (let i = 0; i < 5; i += 1)
        expect((await complete(gateway, standard, `warm ${i}`)).status).toBe(200);

      // Two free-tier streams hold their slots (the router has started them and waits).
      const heldFree = [
        complete(gateway, free, `slow one ${TRIGGER.hold}`, true),
        complete(gateway, free, `slow two ${TRIGGER.hold}`, true),
      ];
      await waitFor(() => world.router.heldCount === 2, {
        description: 'two held free-tier turns',
      });

      const shed = await complete(gateway, free, 'one more', true);
      expect(shed.status).toBe(429);
      // One slot must free up at 5/60 per second: 12 s.
      expect(shed.headers.get('retry-after')).toBe('12');
      expect(await shed.json()).toMatchObject({
        error: {
          type: 'overloaded_error',
          code: 'server_overloaded',
          message: expect.stringContaining('free tier'),
        },
      });

      // Standard still has a slot (3 of 4).
      const standardTurn = await complete(gateway, standard, 'standard goes through');
      expect(standardTurn.status).toBe(200);

      // A premium turn takes the third slot; now standard and premium are full, enterprise is not.
      const heldPremium = complete(gateway, premium, `premium ${TRIGGER.hold}`, true);
      await waitFor(() => world.router.heldCount === 3, { description: 'three held turns' });
      expect((await complete(gateway, standard, 'standard now waits')).status).toBe(429);
      expect((await complete(gateway, premium, 'premium now waits')).status).toBe(429);
      const enterpriseTurn = await complete(gateway, enterprise, 'enterprise keeps its latency');
      expect(enterpriseTurn.status).toBe(200);
      expect(await enterpriseTurn.json()).toMatchObject({
        choices: [{ message: { content: 'Echo: enterprise keeps its latency' } }],
      });

      world.router.releaseHeld();
      for (const response of await Promise.all([...heldFree, heldPremium])) {
        expect(response.status).toBe(200);
        expect((await response.text()).endsWith('data: [DONE]\n\n')).toBe(true);
      }
      // Slots are free again.
      expect((await complete(gateway, free, 'free again')).status).toBe(200);
    });

    it('tells the router each tier priority', () => {
      const priorities = Object.fromEntries(
        [free, standard, premium, enterprise].map((t) => [
          t.id,
          world.router.turnsFor(t.id)[0]?.request.priority,
        ]),
      );
      expect(priorities).toEqual({
        [free.id]: common.Priority.PRIORITY_LOW,
        [standard.id]: common.Priority.PRIORITY_STANDARD,
        [premium.id]: common.Priority.PRIORITY_HIGH,
        [enterprise.id]: common.Priority.PRIORITY_CRITICAL,
      });
    });
  });

  describe('fleet saturation: the router sheds, the gateway sheds that tier and below', () => {
    let gateway: TestGateway;
    let free: TestTenant;
    let premium: TestTenant;

    beforeAll(async () => {
      gateway = await world.startGateway();
      free = await world.createTenant(gateway, { tier: 'free' });
      premium = await world.createTenant(gateway, { tier: 'premium' });
    });

    afterEach(() => {
      world.router.shedBelow = common.Priority.PRIORITY_UNSPECIFIED;
      world.router.bareResourceExhausted = false;
    });

    it('answers 429 (never 5xx) with the router retry hint, then sheds the low tier locally for that long', async () => {
      world.router.shedBelow = common.Priority.PRIORITY_STANDARD;
      world.router.shedRetryAfterMs = 3_000;

      const shed = await complete(gateway, free, 'saturated', true);
      expect(shed.status).toBe(429);
      expect(shed.headers.get('retry-after')).toBe('3');
      expect(await shed.json()).toMatchObject({
        error: { type: 'overloaded_error', code: 'server_overloaded' },
      });
      const routerSaw = world.router.turnsFor(free.id).length;
      expect(routerSaw).toBe(1);

      // Within the hint the gateway does not even ask the router for this tier.
      const again = await complete(gateway, free, 'still saturated');
      expect(again.status).toBe(429);
      expect(Number(again.headers.get('retry-after'))).toBeLessThanOrEqual(3);
      expect(world.router.turnsFor(free.id)).toHaveLength(routerSaw);

      // Higher tiers keep going.
      const served = await complete(gateway, premium, 'premium during saturation', true);
      expect(served.status).toBe(200);
      expect(sseText(await served.text())).toBe('Echo: premium during saturation');
    });

    it('treats a bare RESOURCE_EXHAUSTED status as load too', async () => {
      const other = await world.startGateway();
      const tenant = await world.createTenant(other, { tier: 'free' });
      world.router.shedBelow = common.Priority.PRIORITY_STANDARD;
      world.router.bareResourceExhausted = true;
      const shed = await complete(other, tenant, 'bare');
      expect(shed.status).toBe(429);
      expect(Number(shed.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    });
  });
});
