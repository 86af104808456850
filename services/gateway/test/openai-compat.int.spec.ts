import { InferenceClient } from '@huggingface/inference';
import OpenAI from 'openai';
import { MODEL } from './support/fake-chat-service.js';
import { GatewayWorld, type TestGateway, type TestTenant } from './support/gateway-world.js';

describe('OpenAI compatibility (official SDKs against the gateway, fake router)', () => {
  let world: GatewayWorld;
  let gateway: TestGateway;
  let tenant: TestTenant;
  let openai: OpenAI;

  beforeAll(async () => {
    world = await GatewayWorld.create();
    gateway = await world.startGateway();
    tenant = await world.createTenant(gateway, { tier: 'premium' });
    openai = new OpenAI({ apiKey: tenant.apiKey, baseURL: `${gateway.baseUrl}/v1`, maxRetries: 0 });
  });

  afterAll(async () => {
    await world.cleanup();
  });

  it('lists models', async () => {
    const models = await openai.models.list();
    expect(models.data.map((m) => m.id)).toEqual([MODEL.default, MODEL.small]);
    expect(models.data[0]).toMatchObject({
      object: 'model',
      owned_by: 'spillway',
      created: 1_700_000_000,
    });
    await expect(openai.models.retrieve(MODEL.small)).resolves.toMatchObject({ id: MODEL.small });
  });

  it('answers a non-streaming completion with usage', async () => {
    const completion = await openai.chat.completions.create({
      model: MODEL.default,
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'hello there' },
      ],
      temperature: 0.7,
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.id).toMatch(/^chatcmpl-turn-/);
    expect(completion.choices[0]?.message).toMatchObject({
      role: 'assistant',
      content: 'Echo: hello there',
    });
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage).toMatchObject({
      prompt_tokens: 5,
      completion_tokens: 3,
      total_tokens: 8,
    });
  });

  it('streams deltas, the finish reason, the usage chunk and [DONE]', async () => {
    const stream = await openai.chat.completions.create({
      model: MODEL.default,
      messages: [{ role: 'user', content: 'stream me please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks += 1;
      expect(chunk.object).toBe('chat.completion.chunk');
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('Echo: stream me please');
    expect(finish).toBe('stop');
    expect(usage).toMatchObject({ prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 });
    // role chunk + 4 words + finish chunk + usage chunk
    expect(chunks).toBe(7);
  });

  it('passes the sampling parameters and the tenant priority to the router', async () => {
    await openai.chat.completions.create({
      model: MODEL.default,
      messages: [{ role: 'user', content: 'params' }],
      temperature: 0.5,
      top_p: 0.9,
      max_completion_tokens: 64,
      stop: ['END'],
      seed: 42,
      presence_penalty: 0.1,
      frequency_penalty: -0.2,
      user: 'end-user-7',
    });
    const turn = world.router.turnsFor(tenant.id).at(-1)!.request;
    expect(turn).toMatchObject({
      tenantId: tenant.id,
      model: MODEL.default,
      stateless: true,
      endUser: 'end-user-7',
      priority: 4, // PRIORITY_HIGH for the premium tier
      sampling: {
        temperature: 0.5,
        topP: 0.9,
        maxTokens: 64,
        stop: ['END'],
        seed: 42,
        presencePenalty: 0.1,
        frequencyPenalty: -0.2,
      },
    });
  });

  it('reports finish_reason length when max_tokens cuts the reply', async () => {
    const completion = await openai.chat.completions.create({
      model: MODEL.default,
      messages: [{ role: 'user', content: 'one two three four five' }],
      max_tokens: 2,
    });
    expect(completion.choices[0]).toMatchObject({
      finish_reason: 'length',
      message: { content: 'Echo: one' },
    });
  });

  it('carries the affinity header to the router as the conversation id', async () => {
    await openai.chat.completions.create(
      { model: MODEL.default, messages: [{ role: 'user', content: 'affinity' }] },
      { headers: { 'x-spillway-conversation-id': 'chat-42' } },
    );
    expect(world.router.turnsFor(tenant.id).at(-1)!.request).toMatchObject({
      conversationId: 'chat-42',
      stateless: true,
    });
  });

  it('raises the OpenAI SDK error types with the gateway error body', async () => {
    const failure = openai.chat.completions.create({
      model: 'no-such-model',
      messages: [{ role: 'user', content: 'x' }],
    });
    await expect(failure).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(failure).rejects.toMatchObject({
      status: 404,
      code: 'model_not_found',
      param: 'model',
    });
    const badKey = new OpenAI({
      apiKey: 'sk-spw-nope',
      baseURL: `${gateway.baseUrl}/v1`,
      maxRetries: 0,
    });
    await expect(badKey.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it('turns a router failure after the first token into an error event the SDK raises', async () => {
    const stream = await openai.chat.completions.create({
      model: MODEL.default,
      messages: [{ role: 'user', content: 'please [fail] now' }],
      stream: true,
    });
    const received: string[] = [];
    const consume = async (): Promise<void> => {
      for await (const chunk of stream) received.push(chunk.choices[0]?.delta.content ?? '');
    };
    await expect(consume()).rejects.toThrow(/temporarily unavailable/);
    expect(received.join('')).toBe('Echo: please');
  });

  describe('@huggingface/inference InferenceClient', () => {
    it('chatCompletion against the gateway base URL', async () => {
      const client = new InferenceClient(tenant.apiKey, { endpointUrl: gateway.baseUrl });
      const out = await client.chatCompletion({
        model: MODEL.default,
        messages: [{ role: 'user', content: 'hugging face' }],
        max_tokens: 50,
      });
      expect(out.choices[0]?.message.content).toBe('Echo: hugging face');
      expect(out.usage).toMatchObject({ completion_tokens: 3 });
    });

    it('chatCompletionStream against the gateway base URL', async () => {
      const client = new InferenceClient(tenant.apiKey, { endpointUrl: gateway.baseUrl });
      let text = '';
      for await (const chunk of client.chatCompletionStream({
        model: MODEL.default,
        messages: [{ role: 'user', content: 'streamed hf' }],
      })) {
        text += chunk.choices[0]?.delta.content ?? '';
      }
      expect(text).toBe('Echo: streamed hf');
    });
  });
});
