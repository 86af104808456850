import { randomBytes, randomUUID } from 'node:crypto';
import { InferenceClient } from '@huggingface/inference';
import { createKafkaMessaging, topics, type EventSubscriber } from '@spillway/messaging';
import { planChatReply } from '@spillway/gpu-sim';
import { startTelemetry } from '@spillway/telemetry';
import { OtlpCollector, waitFor } from '@spillway/testing';
import OpenAI from 'openai';
import { counter, startSystem, type RunningSystem } from './support/running-system.js';

// The whole system as `npm start` starts it: three simulated shards, every service a child process.
const SHARDS = 3;
const telemetry = startTelemetry({ serviceName: 'e2e', traceExporter: 'memory' });

describe('the whole system, started with npm start', () => {
  let collector: OtlpCollector;
  let system: RunningSystem;
  let openai: OpenAI;

  beforeAll(async () => {
    collector = await OtlpCollector.start();
    system = await startSystem({
      portOffset: 3000, // not 2000: fetch refuses 10080, a blocked port
      shards: SHARDS,
      env: {
        SPILLWAY_TIME_SCALE: '0.05',
        SPILLWAY_MODEL_LOAD_MS: '200',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: collector.tracesUrl,
      },
    });
    openai = new OpenAI({ baseURL: system.baseUrl, apiKey: system.apiKey, maxRetries: 0 });
  }, 180_000);

  afterAll(async () => {
    await system?.stop();
    await collector?.stop();
  }, 60_000);

  const hello = [{ role: 'user' as const, content: 'Hello, where is my order?' }];
  const expected = planChatReply({ seed: 0, messages: hello, maxTokens: 12 });

  it('answers the openai SDK without streaming, with the simulator text and usage', async () => {
    const completion = await openai.chat.completions.create({
      model: 'spillway-8b',
      messages: hello,
      max_tokens: 12,
    });
    expect(completion.choices[0]?.message.content).toBe(expected.text);
    expect(completion.choices[0]?.finish_reason).toBe('length');
    expect(completion.usage).toMatchObject({ completion_tokens: 12 });
    expect(completion.usage?.prompt_tokens).toBeGreaterThan(0);
  });

  it('streams to the openai SDK, usage in the last chunk', async () => {
    const stream = await openai.chat.completions.create({
      model: 'spillway-8b',
      messages: hello,
      max_tokens: 12,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(expected.text);
    expect(usage).toMatchObject({ completion_tokens: 12 });
  });

  it("answers Hugging Face's InferenceClient", async () => {
    const client = new InferenceClient(system.apiKey, {
      endpointUrl: system.baseUrl.replace(/\/v1$/, ''),
    });
    const reply = await client.chatCompletion({
      model: 'spillway-8b',
      messages: hello,
      max_tokens: 12,
    });
    expect(reply.choices[0]?.message.content).toBe(expected.text);
    let streamed = '';
    for await (const chunk of client.chatCompletionStream({
      model: 'spillway-8b',
      messages: hello,
      max_tokens: 12,
    })) {
      streamed += chunk.choices[0]?.delta?.content ?? '';
    }
    expect(streamed).toBe(expected.text);
  });

  it('keeps a multi-turn conversation on one shard (affinity), replying to the whole history', async () => {
    const conversationId = randomUUID();
    const history: { role: 'user' | 'assistant'; content: string }[] = [];
    const servedBy: number[] = [];
    for (const question of ['My parcel is late.', 'It was due on Monday.', 'Can you refund me?']) {
      history.push({ role: 'user', content: question });
      const before = await Promise.all(
        Array.from({ length: SHARDS }, (_, i) =>
          counter(system.gpuSimUrl(i), 'vllm:generation_tokens_total'),
        ),
      );
      const completion = await openai.chat.completions.create(
        { model: 'spillway-8b', messages: history, max_tokens: 8 },
        { headers: { 'x-spillway-conversation-id': conversationId } },
      );
      const after = await Promise.all(
        Array.from({ length: SHARDS }, (_, i) =>
          counter(system.gpuSimUrl(i), 'vllm:generation_tokens_total'),
        ),
      );
      const reply = completion.choices[0]?.message.content ?? '';
      expect(reply).toBe(planChatReply({ seed: 0, messages: history, maxTokens: 8 }).text);
      history.push({ role: 'assistant', content: reply });
      const changed = after.flatMap((value, i) => (value > (before[i] ?? 0) ? [i] : []));
      expect(changed).toHaveLength(1);
      servedBy.push(changed[0]!);
    }
    expect(new Set(servedBy).size).toBe(1);
  });

  it('traces one turn from the HTTP request through router, conversation-state, adapter and Kafka', async () => {
    const traceId = randomBytes(16).toString('hex');
    const traceparent = `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
    const headers = {
      authorization: `Bearer ${system.apiKey}`,
      'content-type': 'application/json',
    };
    const created = (await (
      await fetch(`${system.baseUrl}/conversations`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ model: 'spillway-8b', system_prompt: 'You are helpful.' }),
      })
    ).json()) as { id: string };

    const seen: string[] = [];
    const subscriber: EventSubscriber = createKafkaMessaging({
      brokers: ['127.0.0.1:19092'],
      clientId: 'e2e',
      source: '/spillway/e2e',
    })
      .createSubscriber({ groupId: `e2e-${randomUUID()}`, fromBeginning: false })
      .subscribe(topics.conversationEvents, async ({ metadata }) => {
        if (metadata.key === created.id) seen.push(metadata.key);
      });
    await subscriber.start();
    try {
      const turn = await fetch(`${system.baseUrl}/conversations/${created.id}/turns`, {
        method: 'POST',
        headers: { ...headers, traceparent },
        body: JSON.stringify({ content: 'Where is my order?', max_tokens: 8 }),
      });
      expect(turn.status).toBe(200);
      await turn.text();

      const services = () =>
        new Set(collector.spans.filter((s) => s.traceId === traceId).map((s) => s.serviceName));
      await waitFor(
        () =>
          ['gateway', 'router', 'conversation-state', 'inference-adapter'].every((s) =>
            services().has(s),
          ),
        {
          timeoutMs: 20_000,
          description: `spans of trace ${traceId} from every service (have ${[...services()].join(', ')})`,
        },
      );
      await waitFor(
        () =>
          telemetry
            .memoryExporter!.getFinishedSpans()
            .some(
              (span) => span.spanContext().traceId === traceId && span.name.endsWith('process'),
            ),
        { timeoutMs: 20_000, description: 'a Kafka consumer span in the same trace' },
      );
      expect(seen.length).toBeGreaterThan(0);
    } finally {
      await subscriber.stop();
    }
  });

  it('refuses a request without a key and keeps serving', async () => {
    const response = await fetch(`${system.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'spillway-8b', messages: hello }),
    });
    expect(response.status).toBe(401);
    const models = await openai.models.list();
    expect(models.data.map((m) => m.id)).toContain('spillway-8b');
  });
});
