// CPU cost of one gRPC hop through @spillway/grpc against bare @grpc/grpc-js, both ends in this
// process, tracing on (as services run it). Wall clock is useless on a loaded box, so each path is
// charged the process CPU time (user + system) it used; the paths alternate block by block so any
// drift hits them alike, and the median block is reported.
//   unary  — GetLoad with a fixed ShardLoad answer;
//   stream — Generate answered with Started + N Deltas + Completed; running it with two N gives
//            the cost per call (intercept) and per streamed message (slope).
// Writes bench/results/grpc-hop.json (or GRPC_HOP_OUT).
//
// Run: npx turbo run build --filter=@spillway/grpc... && npx tsc -p bench/tsconfig.build.json
//      node bench/dist/grpc-hop.js            (node --cpu-prof … to profile)
// Knobs: CALLS per path and shape (default 4000), BLOCK (200), LONG_STREAM (32 deltas),
//        GRPC_BASELINE (another build's libs/grpc/dist, absolute path, run as a third path).
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as grpcJs from '@grpc/grpc-js';
import { common, inference } from '@spillway/contracts';
import * as current from '@spillway/grpc';
import { startTelemetry, withSpan } from '@spillway/telemetry';

const CALLS = Number(process.env.CALLS ?? 4_000);
const BLOCK = Number(process.env.BLOCK ?? 200);
const LONG_STREAM = Number(process.env.LONG_STREAM ?? 32);
const OUT =
  process.env.GRPC_HOP_OUT ?? fileURLToPath(new URL('../results/grpc-hop.json', import.meta.url));

const { InferenceDefinition } = inference;
const generateMethod = InferenceDefinition.methods.generate;
const getLoadMethod = InferenceDefinition.methods.getLoad;
const GENERATE_PATH = '/spillway.inference.v1.Inference/Generate';
const GET_LOAD_PATH = '/spillway.inference.v1.Inference/GetLoad';

type Shape = 'unary' | 'short' | 'long';
type PathName = 'grpcJs' | 'stack' | 'baseline';
type GrpcLib = Pick<typeof current, 'createGrpcClient' | 'createGrpcServer'>;
// Another build of @spillway/grpc (its dist directory) to compare in the same run.
const BASELINE = process.env.GRPC_BASELINE;

const load: common.ShardLoad = {
  runningRequests: 1,
  waitingRequests: 0,
  kvCacheUsage: 0.25,
  inFlightStreams: 1,
  maxInFlightStreams: 8,
  ttftMsP50: 120,
  itlMsP50: 18,
  queueTimeMsP50: 0,
  prefixCacheHitRatio: 0.5,
  observedAtMs: 1_700_000_000_000,
  recentPrefixBlocks: [],
};
const loadReply: inference.GetLoadResponse = { shardId: 'hop', load, draining: false, ready: true };

function reply(deltas: number): inference.GenerateResponse[] {
  const messages: inference.GenerateResponse[] = [
    { event: { $case: 'started', value: { shardId: 'hop', promptTokens: 30 } } },
  ];
  for (let i = 0; i < deltas; i += 1)
    messages.push({ event: { $case: 'delta', value: { text: ' tok' } } });
  messages.push({
    event: {
      $case: 'completed',
      value: {
        finishReason: common.FinishReason.FINISH_REASON_LENGTH,
        usage: {
          promptTokens: 30,
          completionTokens: deltas,
          totalTokens: 30 + deltas,
          cachedPromptTokens: 0,
        },
      },
    },
  });
  return messages;
}
const replies = { short: reply(1), long: reply(LONG_STREAM) };
const deltasOf = (request: inference.GenerateRequest): number =>
  request.model === 'long' ? LONG_STREAM : 1;

function request(shape: 'short' | 'long'): inference.GenerateRequest {
  return {
    requestId: 'req-1',
    conversationId: 'conv-1',
    tenantId: 'tenant-1',
    model: shape,
    messages: [{ role: common.Role.ROLE_USER, content: 'Where is my order?', name: '' }],
    sampling: undefined,
    priority: common.Priority.PRIORITY_STANDARD,
    resumeFromText: '',
  };
}

const codec = {
  generateRequest: (value: inference.GenerateRequest) =>
    Buffer.from(generateMethod.requestType.encode(value).finish()),
  generateRequestBytes: (bytes: Buffer) => generateMethod.requestType.decode(bytes),
  generateResponse: (value: inference.GenerateResponse) =>
    Buffer.from(generateMethod.responseType.encode(value).finish()),
  generateResponseBytes: (bytes: Buffer) => generateMethod.responseType.decode(bytes),
  getLoadRequest: (value: inference.GetLoadRequest) =>
    Buffer.from(getLoadMethod.requestType.encode(value).finish()),
  getLoadRequestBytes: (bytes: Buffer) => getLoadMethod.requestType.decode(bytes),
  getLoadResponse: (value: inference.GetLoadResponse) =>
    Buffer.from(getLoadMethod.responseType.encode(value).finish()),
  getLoadResponseBytes: (bytes: Buffer) => getLoadMethod.responseType.decode(bytes),
};

async function bareServer(): Promise<{ port: number; stop: () => void }> {
  const server = new grpcJs.Server();
  server.register(
    GENERATE_PATH,
    (call: grpcJs.ServerWritableStream<inference.GenerateRequest, inference.GenerateResponse>) => {
      for (const message of deltasOf(call.request) === 1 ? replies.short : replies.long)
        call.write(message);
      call.end();
    },
    codec.generateResponse,
    codec.generateRequestBytes,
    'serverStream',
  );
  server.register(
    GET_LOAD_PATH,
    (_call: unknown, callback: grpcJs.sendUnaryData<inference.GetLoadResponse>) =>
      callback(null, loadReply),
    codec.getLoadResponse,
    codec.getLoadRequestBytes,
    'unary',
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpcJs.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return { port, stop: () => server.forceShutdown() };
}

type Call = (shape: Shape) => Promise<number>;

function bareClient(port: number): { call: Call; close: () => void } {
  const client = new grpcJs.Client(`127.0.0.1:${port}`, grpcJs.credentials.createInsecure());
  const call: Call = (shape) =>
    new Promise<number>((resolve, reject) => {
      const deadline = new Date(Date.now() + 30_000);
      if (shape === 'unary') {
        client.makeUnaryRequest(
          GET_LOAD_PATH,
          codec.getLoadRequest,
          codec.getLoadResponseBytes,
          {},
          { deadline },
          (error) => (error ? reject(error) : resolve(1)),
        );
        return;
      }
      let received = 0;
      const stream = client.makeServerStreamRequest(
        GENERATE_PATH,
        codec.generateRequest,
        codec.generateResponseBytes,
        request(shape),
        { deadline },
      );
      stream.on('data', () => (received += 1));
      stream.on('error', reject);
      stream.on('end', () => resolve(received));
    });
  return { call, close: () => client.close() };
}

async function stackServer(lib: GrpcLib): Promise<{ port: number; stop: () => Promise<void> }> {
  const server = lib.createGrpcServer({
    serviceName: 'grpc-hop',
    services: [
      {
        definition: InferenceDefinition,
        implementation: {
          async *generate(req) {
            yield* deltasOf(req) === 1 ? replies.short : replies.long;
          },
          getLoad: async () => loadReply,
          prewarm: () => Promise.reject(new Error('not served')),
          drain: () => Promise.reject(new Error('not served')),
        },
      },
    ],
    port: 0,
  });
  const port = await server.start();
  return { port, stop: () => server.shutdown(100) };
}

function stackClient(lib: GrpcLib, port: number): { call: Call; close: () => void } {
  const client = lib.createGrpcClient(InferenceDefinition, `127.0.0.1:${port}`, {
    defaultDeadlineMs: 30_000,
  });
  const call: Call = async (shape) => {
    if (shape === 'unary') {
      await client.getLoad({});
      return 1;
    }
    let received = 0;
    for await (const _ of client.generate(request(shape))) received += 1;
    return received;
  };
  return { call, close: () => client.close() };
}

function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

async function main(): Promise<void> {
  startTelemetry({ serviceName: 'grpc-hop', traceExporter: 'none' });
  const bare = await bareServer();
  const libs: Partial<Record<PathName, GrpcLib>> = { stack: current };
  if (BASELINE) libs.baseline = (await import(`${BASELINE}/index.js`)) as GrpcLib;
  const servers: { stop: () => unknown }[] = [bare];
  const clients: Partial<Record<PathName, { call: Call; close: () => void }>> = {
    grpcJs: bareClient(bare.port),
  };
  for (const [path, lib] of Object.entries(libs) as [PathName, GrpcLib][]) {
    const server = await stackServer(lib);
    servers.push(server);
    clients[path] = stackClient(lib, server.port);
  }
  const shapes: Shape[] = ['unary', 'short', 'long'];
  const paths = Object.keys(clients) as PathName[];
  // Each call inside a parent span, as a turn's hops are, so the stack propagates a real context.
  const run = (path: PathName, shape: Shape) =>
    withSpan('turn', {}, () => clients[path]!.call(shape));

  for (const shape of shapes)
    for (const path of paths) for (let i = 0; i < 300; i += 1) await run(path, shape);

  // CPU µs per call of every block; the median shrugs off blocks that other processes disturbed.
  const blocks: Record<Shape, Record<PathName, number[]>> = {
    unary: { grpcJs: [], stack: [], baseline: [] },
    short: { grpcJs: [], stack: [], baseline: [] },
    long: { grpcJs: [], stack: [], baseline: [] },
  };
  const started = Date.now();
  for (let done = 0; done < CALLS; done += BLOCK) {
    for (const shape of shapes) {
      for (const path of paths) {
        const before = cpuMicros();
        for (let i = 0; i < BLOCK; i += 1) await run(path, shape);
        blocks[shape][path].push((cpuMicros() - before) / BLOCK);
      }
    }
    if (Date.now() - started > 300_000) throw new Error('grpc-hop took over 5 minutes');
  }
  const calls = Math.ceil(CALLS / BLOCK) * BLOCK;
  const per = (shape: Shape, path: PathName) => median(blocks[shape][path]);
  const perMessage = (path: PathName) =>
    (per('long', path) - per('short', path)) / (LONG_STREAM - 1);
  const perStream = (path: PathName) => per('short', path) - 3 * perMessage(path);
  const round = (x: number) => Math.round(x * 10) / 10;
  const result = {
    bench: 'grpc-hop',
    when: new Date().toISOString(),
    loadavg: loadavg().map(round),
    calls,
    method:
      'client and server in one process, tracing on (no exporter), each call inside a parent span; ' +
      'CPU µs (user+system) per call: median over blocks of ' +
      BLOCK +
      ' calls, paths alternating block by block',
    baseline: BASELINE ?? null,
    cpuMicrosPerCall: Object.fromEntries(
      shapes.map((s) => [s, Object.fromEntries(paths.map((p) => [p, round(per(s, p))]))]),
    ),
    cpuMicrosPerStreamedMessage: Object.fromEntries(paths.map((p) => [p, round(perMessage(p))])),
    cpuMicrosPerStreamExcludingMessages: Object.fromEntries(
      paths.map((p) => [p, round(perStream(p))]),
    ),
    overGrpcJs: Object.fromEntries(
      paths
        .filter((p) => p !== 'grpcJs')
        .map((p) => [
          p,
          {
            unaryCall: round(per('unary', p) - per('unary', 'grpcJs')),
            streamCall: round(perStream(p) - perStream('grpcJs')),
            streamedMessage: round(perMessage(p) - perMessage('grpcJs')),
          },
        ]),
    ),
  };
  console.log(JSON.stringify(result, null, 2));
  writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
  for (const client of Object.values(clients)) client.close();
  for (const server of servers) await server.stop();
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? sorted[middle]!
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

await main();
