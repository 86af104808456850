import { SpanKind } from '@opentelemetry/api';
import { common, type events } from '@spillway/contracts';
import { ClientError, Status, createGrpcClient } from '@spillway/grpc';
import {
  createKafkaMessaging,
  defineTopic,
  silentLogger,
  topics,
  type DeliveredEvent,
} from '@spillway/messaging';
import { startTelemetry } from '@spillway/telemetry';
import { createTestTopics, testInfrastructure, waitFor, type TestTopics } from '@spillway/testing';
import { HealthDefinition } from 'nice-grpc-server-health';
import {
  collectTurn,
  expectedReply,
  generateRequest,
  untilEnd,
  iterate,
  untilFirstDelta,
} from './factories/turns.js';
import { startAdapter, type AdapterUnderTest } from './support/adapter-in-process.js';
import {
  expectEngineRequestCancelledWithCaller,
  settleEngine,
  SLOW,
} from './support/slow-engine.js';
import { startGpuSimProcess, type GpuSimProcess } from './support/gpu-sim-process.js';

// One shard as it runs for real: the adapter's gRPC server in this process, the simulator as a
// child process, talking HTTP on 127.0.0.1. The spans this process exports are kept in memory.
const telemetry = startTelemetry({ serviceName: 'inference-adapter', traceExporter: 'memory' });
const HEALTH_SERVING = 1;
const HEALTH_NOT_SERVING = 2;

describe('inference adapter against gpu-sim', () => {
  let sim: GpuSimProcess;
  let shard: AdapterUnderTest;

  beforeAll(async () => {
    sim = await startGpuSimProcess({ timeScale: 0.01 });
    shard = await startAdapter({
      ENGINE_URL: sim.url,
      ENGINE_KIND: 'vllm',
      MAX_IN_FLIGHT_STREAMS: '2',
    });
  });
  afterEach(() => settleEngine(sim));
  afterAll(async () => {
    await shard?.close();
    await sim?.stop();
    await telemetry.shutdown();
  });

  it('streams exactly gpu-sim deterministic reply, with its usage, in one trace', async () => {
    telemetry.memoryExporter?.reset();
    const request = generateRequest({ sampling: { seed: 42, maxTokens: 24, stop: [] } });
    const expected = expectedReply(request);
    const turn = await collectTurn(shard.client.generate(request));
    expect(turn.started).toEqual({
      shardId: 'shard-test-1',
      promptTokens: expected.promptTokenIds.length,
    });
    expect(turn.text).toBe(expected.text);
    expect(turn.completed).toEqual({
      finishReason: common.FinishReason.FINISH_REASON_LENGTH,
      usage: {
        promptTokens: expected.promptTokenIds.length,
        completionTokens: 24,
        totalTokens: expected.promptTokenIds.length + 24,
        cachedPromptTokens: 0,
      },
    });

    const spans = await waitFor(
      () => {
        const finished = telemetry.memoryExporter?.getFinishedSpans() ?? [];
        const server = finished.find(
          (s) => s.kind === SpanKind.SERVER && s.name.includes('Generate'),
        );
        const client = finished.find(
          (s) => s.kind === SpanKind.CLIENT && s.name === 'POST /v1/chat/completions',
        );
        return server && client ? { server, client } : undefined;
      },
      { description: 'the Generate server span and the engine client span' },
    );
    expect(spans.client.spanContext().traceId).toBe(spans.server.spanContext().traceId);
    expect(spans.client.parentSpanContext?.spanId).toBe(spans.server.spanContext().spanId);
    expect(spans.client.attributes['gen_ai.usage.output_tokens']).toBe(24);
  });

  it('resumes a reply after the text already streamed, with nothing repeated or skipped', async () => {
    const original = generateRequest();
    const full = expectedReply(original);
    const k = 7;
    const alreadySent = full.tokens.slice(0, k).join('');
    const turn = await collectTurn(
      shard.client.generate({
        ...original,
        requestId: `${original.requestId}-resume`,
        resumeFromText: alreadySent,
      }),
    );
    expect(turn.text).toBe(full.tokens.slice(k).join(''));
    expect(alreadySent + turn.text).toBe(full.text);
    expect(turn.completed?.usage?.completionTokens).toBe(full.tokens.length - k);
  });

  it('cancels the engine request when the gRPC caller goes away', async () => {
    await expectEngineRequestCancelledWithCaller(sim, shard);
  });

  it('refuses the stream beyond MAX_IN_FLIGHT_STREAMS at once with RESOURCE_EXHAUSTED and a retry hint', async () => {
    await sim.setFault(SLOW);
    const callers = [new AbortController(), new AbortController()];
    const open = callers.map((caller) =>
      iterate(shard.client.generate(generateRequest(), { signal: caller.signal })),
    );
    for (const stream of open) await untilFirstDelta(stream);

    let trailer: Map<string, string> | undefined;
    const refused = await collectTurn(
      shard.client.generate(generateRequest(), {
        onTrailer: (metadata) => {
          trailer = new Map([...metadata].map(([key, values]) => [key, String(values[0])]));
        },
      }),
    ).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ClientError);
    expect(refused).toMatchObject({ code: Status.RESOURCE_EXHAUSTED });
    expect((refused as ClientError).details).toContain('SHARD.OVERLOADED');
    expect((refused as ClientError).details).toContain('shard-test-1');
    expect(Number(trailer?.get('retry-after-ms'))).toBeGreaterThan(0);

    for (const caller of callers) caller.abort();
    for (const stream of open) await untilEnd(stream).catch(() => undefined);
    await waitFor(() => shard.runtime.inFlight === 0, { description: 'both slots freed' });
  });

  it('publishes ShardLoadReported about once a second to the load topic', async () => {
    const testTopics: TestTopics<'load'> = await createTestTopics({ load: 1 });
    const reporting = await startAdapter({
      SHARD_ID: 'shard-test-kafka',
      ENGINE_URL: sim.url,
      KAFKA_BROKERS: testInfrastructure.kafkaBrokers.join(','),
      LOAD_TOPIC: testTopics.names.load,
      MAX_IN_FLIGHT_STREAMS: '5',
    });
    const received: DeliveredEvent<events.ShardLoadReported>[] = [];
    const subscriber = createKafkaMessaging({
      brokers: testInfrastructure.kafkaBrokers,
      clientId: 'adapter-int-test',
      source: '/spillway/test',
      logger: silentLogger,
    })
      .createSubscriber({ groupId: testTopics.groupId('load'), fromBeginning: true })
      .subscribe(defineTopic(testTopics.names.load, topics.shardLoad.codec), async (delivery) => {
        received.push(delivery);
      });
    try {
      await subscriber.start();
      await collectTurn(reporting.client.generate(generateRequest()));
      const afterTurn = await waitFor(
        () => received.find((r) => (r.event.load?.recentPrefixBlocks.length ?? 0) > 0),
        {
          description: 'a load report carrying the served prompt blocks',
          timeoutMs: 20_000,
        },
      );
      expect(
        afterTurn.event.load?.recentPrefixBlocks.every((hash) => Number.isSafeInteger(hash)),
      ).toBe(true);
      const first = received[0]!;
      expect(first.metadata.key).toBe('shard-test-kafka');
      expect(first.metadata.type).toBe('spillway.events.v1.ShardLoadReported');
      expect(first.event).toMatchObject({
        shardId: 'shard-test-kafka',
        pool: 'pool-test',
        load: { maxInFlightStreams: 5 },
      });
    } finally {
      await subscriber.stop();
      await reporting.close();
      await testTopics.cleanup();
    }
  });

  it('drains: new streams are refused with SHARD.DRAINING, the in-flight one finishes, health is NOT_SERVING', async () => {
    const draining = await startAdapter({ SHARD_ID: 'shard-test-drain', ENGINE_URL: sim.url });
    const health = createGrpcClient(HealthDefinition, draining.address, {
      defaultDeadlineMs: 5_000,
      translateErrors: false,
    });
    try {
      expect((await health.check({ service: 'spillway.inference.v1.Inference' })).status).toBe(
        HEALTH_SERVING,
      );
      await sim.setFault(SLOW);
      const request = generateRequest({ sampling: { seed: 7, maxTokens: 12, stop: [] } });
      const inFlight = iterate(draining.client.generate(request));
      await untilFirstDelta(inFlight);

      expect(await draining.client.drain({ reason: 'scale-down' })).toEqual({ inFlightStreams: 1 });
      const refused = await collectTurn(draining.client.generate(generateRequest())).catch(
        (error: unknown) => error,
      );
      expect(refused).toMatchObject({ code: Status.UNAVAILABLE });
      expect((refused as ClientError).details).toContain('SHARD.DRAINING');
      expect((await health.check({ service: '' })).status).toBe(HEALTH_NOT_SERVING);
      expect(await draining.client.getLoad({})).toMatchObject({
        shardId: 'shard-test-drain',
        draining: true,
        ready: true,
      });

      await sim.setFault({ mode: 'none' });
      const rest = await collectTurn({ [Symbol.asyncIterator]: () => inFlight });
      expect(rest.completed?.finishReason).toBe(common.FinishReason.FINISH_REASON_LENGTH);
      await waitFor(() => draining.runtime.inFlight === 0, { description: 'drained shard idle' });
    } finally {
      health.close();
      await draining.close();
    }
  });

  it('prewarms a conversation so its next turn finds the prefix cached', async () => {
    const messages = generateRequest().messages;
    const longContext = [
      {
        ...messages[0]!,
        content: `${'Earlier we talked about your refund and the shipping policy. '.repeat(20)}`,
      },
      ...messages,
    ];
    const prewarm = await shard.client.prewarm({
      conversationId: 'conv-prewarm',
      model: '',
      messages: longContext,
    });
    expect(prewarm.promptTokens).toBeGreaterThan(100);
    const load = await shard.client.getLoad({});
    expect(load.load?.recentPrefixBlocks.length).toBeGreaterThan(0);
    const hitsBefore = (await sim.metric('vllm:prefix_cache_hits_total')) ?? 0;
    await collectTurn(shard.client.generate(generateRequest({ messages: longContext })));
    expect((await sim.metric('vllm:prefix_cache_hits_total')) ?? 0).toBeGreaterThan(hitsBefore);
  });
});
