import { SpanKind } from '@opentelemetry/api';
import { type ReadableSpan } from '@opentelemetry/sdk-trace';
import { inference } from '@spillway/contracts';
import { DomainError } from '@spillway/errors';
import { startTelemetry, type Telemetry, withSpan } from '@spillway/telemetry';
import { HealthDefinition } from 'nice-grpc-server-health';
import { HealthCheckResponse_ServingStatus as ServingStatus } from 'nice-grpc-server-health/lib/proto/grpc/health/v1/health.js';
import {
  ChannelPool,
  ClientError,
  createGrpcClient,
  createGrpcServer,
  type GrpcClient,
  type GrpcErrorLog,
  type GrpcServer,
  type Metadata,
  Status,
  waitForReady,
} from '../src/index.js';
import { FakeShard, generateRequest, MODEL } from './fake-shard.js';
import { askReflection } from './reflection-client.js';

const INFERENCE = 'spillway.inference.v1.Inference';
const { InferenceDefinition } = inference;

describe('@spillway/grpc against a real server', () => {
  let telemetry: Telemetry;
  let shard: FakeShard;
  let server: GrpcServer;
  let address: string;
  const logged: string[] = [];
  const errorLog: GrpcErrorLog = {
    error: (message, fields) => logged.push(`${message} ${JSON.stringify(fields)}`),
  };
  const pool = new ChannelPool();
  let client: GrpcClient<typeof InferenceDefinition>;
  let rawClient: GrpcClient<typeof InferenceDefinition>;

  beforeAll(async () => {
    // Before any call: the client and server middleware read the global tracer provider per call.
    telemetry = startTelemetry({ serviceName: 'grpc-int-test', traceExporter: 'memory' });
    shard = new FakeShard();
    server = createGrpcServer({
      serviceName: 'inference-adapter',
      services: [{ definition: InferenceDefinition, implementation: shard.implementation }],
      port: 0,
      errorLog,
    });
    await server.start();
    address = `127.0.0.1:${server.port}`;
    client = createGrpcClient(InferenceDefinition, address, {
      defaultDeadlineMs: 5_000,
      channelPool: pool,
    });
    rawClient = createGrpcClient(InferenceDefinition, address, {
      defaultDeadlineMs: 5_000,
      channelPool: pool,
      translateErrors: false,
    });
  });

  afterAll(async () => {
    client.close();
    rawClient.close();
    pool.closeAll();
    await server.shutdown(1_000);
    await telemetry.shutdown();
  });

  beforeEach(() => {
    shard.getLoadFailure = undefined;
    telemetry.memoryExporter!.reset();
  });

  describe('health and reflection', () => {
    it('answers the standard health check, per service, and reports NOT_SERVING once flipped', async () => {
      const health = createGrpcClient(HealthDefinition, address, {
        defaultDeadlineMs: 2_000,
        channelPool: pool,
      });
      try {
        expect((await health.check({ service: '' })).status).toBe(ServingStatus.SERVING);
        expect((await health.check({ service: INFERENCE })).status).toBe(ServingStatus.SERVING);

        server.setServingStatus('NOT_SERVING', INFERENCE);
        expect((await health.check({ service: INFERENCE })).status).toBe(ServingStatus.NOT_SERVING);
        expect((await health.check({ service: '' })).status).toBe(ServingStatus.SERVING);
      } finally {
        server.setServingStatus('SERVING', INFERENCE);
        health.close();
      }
    });

    it.each(['v1', 'v1alpha'] as const)(
      'lists and describes its services through reflection %s',
      async (version) => {
        const answers = await askReflection(address, version, [INFERENCE, 'grpc.health.v1.Health']);
        expect(answers.services).toEqual(
          expect.arrayContaining([INFERENCE, 'grpc.health.v1.Health']),
        );
        expect(answers.files).toEqual([
          ['spillway/inference/v1/inference.proto'],
          ['grpc/health/v1/health.proto'],
        ]);
      },
    );

    it('shares one channel between clients of one address', () => {
      expect(pool.size).toBe(1);
    });
  });

  describe('calls', () => {
    it('serves a unary call and a server stream', async () => {
      expect(await client.getLoad({})).toMatchObject({ shardId: 'shard-a', ready: true });
      const events: string[] = [];
      for await (const response of client.generate(generateRequest()))
        events.push(response.event?.$case ?? 'none');
      expect(events).toEqual(['started', 'delta', 'delta', 'completed']);
    });
  });

  describe('errors', () => {
    it('sends a DomainError as its mapped status with the domain code and retry-after-ms', async () => {
      shard.getLoadFailure = new DomainError(
        'SHARD.OVERLOADED',
        'shard-a has 40 turns queued; retry shortly',
        {
          retryAfterSeconds: 2,
        },
      );
      let trailer: Metadata | undefined;
      const error = await rawClient
        .getLoad({}, { onTrailer: (received) => (trailer = received) })
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(ClientError);
      expect((error as ClientError).code).toBe(Status.RESOURCE_EXHAUSTED);
      expect((error as ClientError).details).toBe(
        'SHARD.OVERLOADED: shard-a has 40 turns queued; retry shortly',
      );
      expect(trailer?.get('spillway-error-code')).toBe('SHARD.OVERLOADED');
      expect(trailer?.get('retry-after-ms')).toBe('2000');
    });

    it('rebuilds the DomainError on a translating client', async () => {
      shard.getLoadFailure = new DomainError('SHARD.OVERLOADED', 'queue full', {
        retryAfterSeconds: 2,
      });
      const error = await client.getLoad({}).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(DomainError);
      expect(error).toMatchObject({
        code: 'SHARD.OVERLOADED',
        message: 'queue full',
        retryAfterSeconds: 2,
      });
    });

    it("still hands the trailer to the caller's onTrailer on a translating client", async () => {
      shard.getLoadFailure = new DomainError('SHARD.OVERLOADED', 'queue full');
      let trailer: Metadata | undefined;
      const error = await client
        .getLoad({}, { onTrailer: (received) => (trailer = received) })
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(DomainError);
      expect(trailer?.get('spillway-error-code')).toBe('SHARD.OVERLOADED');
    });

    it('delivers a DomainError thrown mid-stream after the chunks already sent', async () => {
      const events: string[] = [];
      const failure = await (async () => {
        for await (const response of client.generate(
          generateRequest({ model: MODEL.drainingMidStream }),
        )) {
          events.push(response.event?.$case ?? 'none');
        }
      })().catch((e: unknown) => e);

      expect(events).toEqual(['started', 'delta']);
      expect(failure).toMatchObject({
        code: 'SHARD.DRAINING',
        retryAfterSeconds: 0,
        details: { shardId: 'shard-a' },
      });
    });

    it('turns any other error into INTERNAL without leaking its text, and logs it', async () => {
      shard.getLoadFailure = new Error('boom secret');
      let trailer: Metadata | undefined;
      const error = await rawClient
        .getLoad({}, { onTrailer: (received) => (trailer = received) })
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(ClientError);
      expect((error as ClientError).code).toBe(Status.INTERNAL);
      expect((error as ClientError).details).not.toContain('secret');
      expect(trailer?.get('spillway-error-code')).toBeUndefined();
      expect(logged.some((line) => line.includes('GetLoad') && line.includes('boom secret'))).toBe(
        true,
      );
    });
  });

  describe('tracing', () => {
    it('puts the server span in the caller trace, as the child of the client span', async () => {
      await withSpan('turn', {}, () => client.getLoad({}));

      const spans = telemetry.memoryExporter!.getFinishedSpans();
      const turn = only(spans, (s) => s.name === 'turn');
      const clientSpan = only(spans, (s) => s.kind === SpanKind.CLIENT);
      const serverSpan = only(spans, (s) => s.kind === SpanKind.SERVER);

      expect(clientSpan.name).toBe(`${INFERENCE}/GetLoad`);
      expect(serverSpan.name).toBe(`${INFERENCE}/GetLoad`);
      expect(clientSpan.parentSpanContext?.spanId).toBe(turn.spanContext().spanId);
      expect(serverSpan.spanContext().traceId).toBe(turn.spanContext().traceId);
      expect(serverSpan.parentSpanContext?.spanId).toBe(clientSpan.spanContext().spanId);
      expect(serverSpan.attributes).toMatchObject({
        'rpc.system': 'grpc',
        'rpc.service': INFERENCE,
        'rpc.method': 'GetLoad',
        'rpc.grpc.status_code': Status.OK,
      });
    });

    it('keeps a server stream in its span until the stream ends, handler work included', async () => {
      await withSpan('turn', {}, async () => {
        for await (const _ of client.generate(generateRequest())) {
          // drain the stream
        }
      });

      const spans = telemetry.memoryExporter!.getFinishedSpans();
      const serverSpan = only(spans, (s) => s.kind === SpanKind.SERVER);
      const decode = only(spans, (s) => s.name === 'engine.decode');
      expect(serverSpan.name).toBe(`${INFERENCE}/Generate`);
      expect(decode.parentSpanContext?.spanId).toBe(serverSpan.spanContext().spanId);
      expect(decode.spanContext().traceId).toBe(serverSpan.spanContext().traceId);
    });

    it('records the mapped status on both spans of a failed call', async () => {
      shard.getLoadFailure = new DomainError('SHARD.OVERLOADED', 'queue full');
      await client.getLoad({}).catch(() => undefined);

      const spans = telemetry.memoryExporter!.getFinishedSpans();
      for (const kind of [SpanKind.CLIENT, SpanKind.SERVER]) {
        expect(only(spans, (s) => s.kind === kind).attributes['rpc.grpc.status_code']).toBe(
          Status.RESOURCE_EXHAUSTED,
        );
      }
    });
  });

  describe('deadlines and readiness', () => {
    it('cuts a hanging handler at the client deadline with DEADLINE_EXCEEDED, and the server stops too', async () => {
      const hanging = { conversationId: 'conv-1', model: MODEL.ok, messages: [] };
      const error = await rawClient.prewarm(hanging, { deadline: 200 }).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(ClientError);
      expect((error as ClientError).code).toBe(Status.DEADLINE_EXCEEDED);
      await shard.prewarmAborted;
    });

    it('applies the default deadline when the call sets none', async () => {
      const impatient = createGrpcClient(InferenceDefinition, address, {
        defaultDeadlineMs: 200,
        channelPool: pool,
      });
      try {
        const error = await impatient
          .prewarm({ conversationId: 'c', model: MODEL.ok, messages: [] })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(DomainError);
        expect((error as DomainError).details.grpcStatus).toBe('DEADLINE_EXCEEDED');
      } finally {
        impatient.close();
      }
    });

    it('waits for a live server and names a dead one within the timeout', async () => {
      await expect(waitForReady(address, 2_000)).resolves.toBeUndefined();
      await expect(waitForReady('127.0.0.1:1', 300)).rejects.toThrow(
        'gRPC server 127.0.0.1:1 not reachable after 300 ms',
      );
    });
  });
});

function only(
  spans: readonly ReadableSpan[],
  predicate: (span: ReadableSpan) => boolean,
): ReadableSpan {
  const matching = spans.filter(predicate);
  if (matching.length !== 1) {
    throw new Error(
      `expected one matching span, found ${matching.length}: ${spans.map((s) => s.name).join(', ')}`,
    );
  }
  return matching[0]!;
}
