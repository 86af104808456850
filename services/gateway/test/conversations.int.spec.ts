import { MODEL } from './support/fake-chat-service.js';
import {
  GatewayWorld,
  postJson,
  type TestGateway,
  type TestTenant,
} from './support/gateway-world.js';

interface ConversationBody {
  id: string;
  object: string;
  model: string;
  closed: boolean;
  messages?: { role: string; content: string }[];
}

describe('conversations API and tenant isolation (fake router, real Postgres and Redis)', () => {
  let world: GatewayWorld;
  let gateway: TestGateway;
  let alice: TestTenant;
  let bob: TestTenant;
  const url = (path: string): string => `${gateway.baseUrl}${path}`;
  const get = (path: string, apiKey: string): Promise<Response> =>
    fetch(url(path), { headers: { authorization: `Bearer ${apiKey}` } });

  beforeAll(async () => {
    world = await GatewayWorld.create();
    gateway = await world.startGateway();
    alice = await world.createTenant(gateway, { name: 'alice' });
    bob = await world.createTenant(gateway, { name: 'bob' });
  });

  afterAll(async () => {
    await world.cleanup();
  });

  async function createConversation(
    tenant: TestTenant,
    body: Record<string, unknown> = {},
  ): Promise<ConversationBody> {
    const response = await postJson(url('/v1/conversations'), tenant.apiKey, {
      model: MODEL.default,
      system_prompt: 'Be brief.',
      ...body,
    });
    expect(response.status).toBe(201);
    return (await response.json()) as ConversationBody;
  }

  it('creates a conversation, runs turns (plain and streamed), reads and lists it', async () => {
    const conversation = await createConversation(alice, { labels: { app: 'test' } });
    expect(conversation).toMatchObject({
      object: 'conversation',
      model: MODEL.default,
      closed: false,
      messages: [],
    });

    const first = await postJson(url(`/v1/conversations/${conversation.id}/turns`), alice.apiKey, {
      content: 'first turn',
    });
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({
      object: 'chat.completion',
      conversation_id: conversation.id,
      choices: [{ message: { content: 'Echo: first turn' } }],
    });
    const turn = world.router.turnsFor(alice.id).at(-1)!.request;
    expect(turn).toMatchObject({
      conversationId: conversation.id,
      stateless: false,
      messages: [{ content: 'first turn' }],
    });

    const streamed = await postJson(
      url(`/v1/conversations/${conversation.id}/turns`),
      alice.apiKey,
      {
        messages: [{ role: 'user', content: 'second turn' }],
        stream: true,
      },
    );
    expect(streamed.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = (await streamed.text()).split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');

    const read = await get(`/v1/conversations/${conversation.id}`, alice.apiKey);
    expect(read.status).toBe(200);
    const body = (await read.json()) as ConversationBody;
    expect(body.messages?.map((m) => `${m.role}:${m.content}`)).toEqual([
      'user:first turn',
      'assistant:Echo: first turn',
      'user:second turn',
      'assistant:Echo: second turn',
    ]);

    const list = await get('/v1/conversations?limit=50', alice.apiKey);
    expect(list.status).toBe(200);
    const listed = (await list.json()) as { data: ConversationBody[]; has_more: boolean };
    expect(listed.data.map((c) => c.id)).toContain(conversation.id);
    expect(listed.has_more).toBe(false);
  });

  it('sends the turns of a conversation it knows without reading the conversation first', async () => {
    const conversation = await createConversation(alice);
    const readsBefore = world.router.conversationReads;
    for (const content of ['one', 'two', 'three']) {
      const turn = await postJson(url(`/v1/conversations/${conversation.id}/turns`), alice.apiKey, {
        content,
      });
      expect(turn.status).toBe(200);
    }
    expect(world.router.conversationReads).toBe(readsBefore);
    // Bob's turn on Alice's conversation is not answered from what this replica knows of it.
    const stranger = await postJson(url(`/v1/conversations/${conversation.id}/turns`), bob.apiKey, {
      content: 'mine now?',
    });
    expect(stranger.status).toBe(404);
  });

  it('pages through the list', async () => {
    const tenant = await world.createTenant(gateway);
    for (let i = 0; i < 3; i += 1) await createConversation(tenant);
    const page1 = (await (await get('/v1/conversations?limit=2', tenant.apiKey)).json()) as {
      data: unknown[];
      next_page_token: string;
    };
    expect(page1.data).toHaveLength(2);
    const page2 = (await (
      await get(`/v1/conversations?limit=2&after=${page1.next_page_token}`, tenant.apiKey)
    ).json()) as {
      data: unknown[];
      has_more: boolean;
    };
    expect(page2).toMatchObject({ has_more: false });
    expect(page2.data).toHaveLength(1);
  });

  it("answers 404 for another tenant's conversation on read, turn and close, and never lists it", async () => {
    const conversation = await createConversation(alice);
    const expectNotFound = async (response: Response): Promise<void> => {
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({
        error: { code: 'conversation_not_found', param: 'conversation_id' },
      });
    };
    await expectNotFound(await get(`/v1/conversations/${conversation.id}`, bob.apiKey));
    await expectNotFound(
      await postJson(url(`/v1/conversations/${conversation.id}/turns`), bob.apiKey, {
        content: 'hijack',
      }),
    );
    await expectNotFound(
      await postJson(url(`/v1/conversations/${conversation.id}/close`), bob.apiKey, {}),
    );
    const bobs = (await (await get('/v1/conversations', bob.apiKey)).json()) as {
      data: ConversationBody[];
    };
    expect(bobs.data.map((c) => c.id)).not.toContain(conversation.id);
    // And alice's conversation is untouched.
    expect(
      (
        (await (
          await get(`/v1/conversations/${conversation.id}`, alice.apiKey)
        ).json()) as ConversationBody
      ).closed,
    ).toBe(false);
    expect(
      world.router.turnsFor(bob.id).filter((t) => t.request.conversationId === conversation.id),
    ).toHaveLength(0);
  });

  it('closes a conversation; a later turn is 409 conversation_closed', async () => {
    const conversation = await createConversation(alice);
    const closed = await postJson(
      url(`/v1/conversations/${conversation.id}/close`),
      alice.apiKey,
      {},
    );
    expect(closed.status).toBe(200);
    expect(await closed.json()).toMatchObject({ id: conversation.id, closed: true });
    const turn = await postJson(url(`/v1/conversations/${conversation.id}/turns`), alice.apiKey, {
      content: 'too late',
    });
    expect(turn.status).toBe(409);
    expect(await turn.json()).toMatchObject({ error: { code: 'conversation_closed' } });
  });

  it('refuses a turn whose history would overflow the model context window', async () => {
    const conversation = await createConversation(alice, { model: MODEL.small });
    const response = await postJson(
      url(`/v1/conversations/${conversation.id}/turns`),
      alice.apiKey,
      { content: 'x'.repeat(2_000) },
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: { code: 'context_length_exceeded', param: 'messages' },
    });
  });
});

describe('API keys (real Postgres)', () => {
  let world: GatewayWorld;
  let gateway: TestGateway;

  beforeAll(async () => {
    world = await GatewayWorld.create();
    gateway = await world.startGateway({ GATEWAY_AUTH_CACHE_TTL_MS: '0' });
  });

  afterAll(async () => {
    await world.cleanup();
  });

  const models = (authorization?: string): Promise<Response> =>
    fetch(`${gateway.baseUrl}/v1/models`, {
      headers: authorization === undefined ? {} : { authorization },
    });

  it.each([
    ['no Authorization header', undefined, 'missing_api_key'],
    ['a malformed key', 'Bearer not-a-key', 'invalid_api_key'],
    ['a well-formed unknown key', `Bearer sk-spw-${'A'.repeat(52)}`, 'invalid_api_key'],
    ['a Basic credential', 'Basic dXNlcjpwYXNz', 'invalid_api_key'],
  ])('answers 401 for %s', async (_label, authorization, code) => {
    const response = await models(authorization);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { type: 'authentication_error', code } });
  });

  it('answers 401 for a right lookup id with a wrong secret', async () => {
    const tenant = await world.createTenant(gateway);
    const forged = `${tenant.apiKey.slice(0, 19)}${'x'.repeat(40)}`;
    expect((await models(`Bearer ${forged}`)).status).toBe(401);
  });

  it('answers 401 once a key is revoked (through the admin endpoint), and the tenant keeps its other keys', async () => {
    const tenant = await world.createTenant(gateway);
    expect((await models(`Bearer ${tenant.apiKey}`)).status).toBe(200);
    const admin = { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' };
    const second = await fetch(`${gateway.baseUrl}/admin/v1/tenants/${tenant.id}/keys`, {
      method: 'POST',
      headers: admin,
      body: '{"name":"second"}',
    });
    expect(second.status).toBe(201);
    const secondKey = ((await second.json()) as { api_key: string }).api_key;

    const revoked = await fetch(`${gateway.baseUrl}/admin/v1/keys/${tenant.keyId}/revoke`, {
      method: 'POST',
      headers: admin,
      body: '{}',
    });
    expect(revoked.status).toBe(200);
    expect(await revoked.json()).toMatchObject({
      id: tenant.keyId,
      revoked_at: expect.any(Number),
    });

    const after = await models(`Bearer ${tenant.apiKey}`);
    expect(after.status).toBe(401);
    expect(await after.json()).toMatchObject({
      error: { message: expect.stringContaining('revoked') },
    });
    expect((await models(`Bearer ${secondKey}`)).status).toBe(200);
  });

  it('stores only a hash and the public prefix of each key', async () => {
    const tenant = await world.createTenant(gateway);
    const { rows } = await world.database.pool.query<{ prefix: string; secret_sha256: string }>(
      'SELECT prefix, secret_sha256 FROM gateway_api_keys WHERE id = $1',
      [tenant.keyId],
    );
    expect(rows[0]!.prefix).toBe(tenant.apiKey.slice(0, 19));
    expect(rows[0]!.secret_sha256).toMatch(/^[0-9a-f]{64}$/);
    const everything = JSON.stringify(rows);
    expect(everything).not.toContain(tenant.apiKey.slice(19));
  });

  it('keeps the admin endpoints behind the admin token', async () => {
    const response = await fetch(`${gateway.baseUrl}/admin/v1/tenants`, {
      headers: { authorization: 'Bearer wrong' },
    });
    expect(response.status).toBe(401);
    const tenant = await world.createTenant(gateway);
    const asTenant = await fetch(`${gateway.baseUrl}/admin/v1/tenants`, {
      headers: { authorization: `Bearer ${tenant.apiKey}` },
    });
    expect(asTenant.status).toBe(401);
  });
});
