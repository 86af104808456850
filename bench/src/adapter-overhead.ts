// What the inference adapter adds to a turn. One gpu-sim at zero latency (so the engine itself
// costs almost nothing) and one inference adapter in front of it, each a child process run as
// `npm start` runs it. Like with like:
//   direct  — the bench calls gpu-sim itself: POST /v1/chat/completions (stream) over a keep-alive
//             node:http connection, read to [DONE];
//   adapter — the bench calls the adapter's gRPC Inference.Generate (the router's client,
//             @spillway/grpc), which calls the same gpu-sim, read to GenerateCompleted;
//   adapterUds — the same through a second adapter whose engine is a second gpu-sim on a Unix
//             domain socket (ENGINE_URL=unix:/path, gpu-sim --uds as vLLM's): an adapter deployed
//             beside its engine. The router still reaches the adapter over TCP;
//   directUds — the bench calling that socket's gpu-sim itself: a reference, and it keeps the two
//             gpu-sims equally busy (each serves 2 calls in 6), so neither adapter's engine is
//             colder than the other's.
// The difference is the gRPC hop plus the adapter's own work. To tell them apart, two floors answer
// the same Generate call with Started + one Delta + Completed and no engine behind them:
//   grpc-js — a bare @grpc/grpc-js server and client (the transport alone);
//   stack   — createGrpcServer/createGrpcClient from @spillway/grpc (nice-grpc, tracing and error
//             middleware), exactly what the adapter and router use.
// Paths alternate call by call so drift hits all alike; then the same with concurrent callers.
// Writes bench/results/adapter-overhead.json (or RESULTS_FILE).
//
// Run: npx turbo run build --filter=@spillway/gpu-sim... --filter=@spillway/inference-adapter...
//      npx tsc -p bench/tsconfig.build.json && node bench/dist/adapter-overhead.js
// Knobs: TURNS (default 3000), CONCURRENCY (16), CONCURRENT_TURNS (2000), MAX_TOKENS (16),
//        TIME_SCALE (0 = zero latency), ADAPTER_CPU_PROF_DIR (profile the adapter with --cpu-prof),
//        ADAPTER_MAIN (another adapter build to compare, relative to services/inference-adapter),
//        ENGINE_UDS=0 (leave out adapterUds, e.g. for an adapter build without unix: addresses).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request, type RequestOptions } from 'node:http';
import { createServer } from 'node:net';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import * as grpcJs from '@grpc/grpc-js';
import { common, inference } from '@spillway/contracts';
import { createGrpcClient, createGrpcServer, type GrpcClient } from '@spillway/grpc';

const root = fileURLToPath(new URL('../..', import.meta.url));
const TURNS = Number(process.env.TURNS ?? 3_000);
const WARMUP = Math.min(300, TURNS);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const CONCURRENT_TURNS = Number(process.env.CONCURRENT_TURNS ?? 2_000);
const MAX_TOKENS = Number(process.env.MAX_TOKENS ?? 16);
const TIME_SCALE = Number(process.env.TIME_SCALE ?? 0);
const PROFILE_DIR = process.env.ADAPTER_CPU_PROF_DIR;
// Another build of the adapter to compare (relative to services/inference-adapter).
const ADAPTER_MAIN = process.env.ADAPTER_MAIN ?? 'dist/main.js';
const WITH_UDS = process.env.ENGINE_UDS !== '0';
const PHASE_LIMIT_MS = 240_000;
const SEED = 7;
const GENERATE_PATH = '/spillway.inference.v1.Inference/Generate';

const QUESTIONS = [
  'Where is my order? The tracking page has not changed since Monday.',
  'How do I reset my password if I no longer have access to my email?',
  'Can I return a product after thirty days if it is still sealed?',
  'Why was I charged twice for the same invoice this month?',
  'Please help me upgrade my plan and tell me what changes on the next bill.',
];

interface Turn {
  readonly totalMs: number;
  readonly firstTokenMs: number;
  readonly text: string;
}

type PathName = 'direct' | 'directUds' | 'adapter' | 'adapterUds' | 'floorGrpcJs' | 'floorStack';
type Call = (question: string, n: number) => Promise<Turn>;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        address && typeof address === 'object'
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

function start(
  name: string,
  cwd: string,
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
  nodeArgs: string[] = [],
): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [...nodeArgs, '--import', '@spillway/telemetry/register', ...args],
    {
      cwd: `${root}${cwd}`,
      env: { ...process.env, SPILLWAY_TRACE_EXPORTER: 'none', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} not ready in 60 s:\n${output}`)),
      60_000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}):\n${output}`)));
  });
}

async function waitHealthy(url: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // not yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} never became healthy`);
}

/** Until the adapter's health probe has found its engine (GetLoad says ready). */
async function waitReady(client: GrpcClient<typeof inference.InferenceDefinition>): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if ((await client.getLoad({})).ready) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the adapter never found its engine ready');
}

/** The best a client of the engine can do: one keep-alive connection per caller, raw SSE. */
function directCall(engine: string | { socketPath: string }): Call {
  const path = '/v1/chat/completions';
  const url = typeof engine === 'string' ? new URL(engine) : undefined;
  const target: RequestOptions = url
    ? { host: url.hostname, port: Number(url.port), path }
    : { socketPath: (engine as { socketPath: string }).socketPath, path };
  const agent = new Agent({ keepAlive: true, maxSockets: 1_024 });
  return (question) =>
    new Promise<Turn>((resolve, reject) => {
      const begin = performance.now();
      const body = JSON.stringify({
        model: 'llama-3.1-8b',
        messages: [{ role: 'user', content: question }],
        stream: true,
        stream_options: { include_usage: true },
        max_tokens: MAX_TOKENS,
        seed: SEED,
      });
      const req = request(
        {
          ...target,
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            accept: 'text/event-stream',
            'content-length': Buffer.byteLength(body),
          },
        },
        (response) => {
          if (response.statusCode !== 200) {
            response.resume();
            reject(new Error(`gpu-sim answered HTTP ${response.statusCode}`));
            return;
          }
          response.setEncoding('utf8');
          let text = '';
          let firstTokenMs = Number.NaN;
          response.on('data', (chunk: string) => {
            if (Number.isNaN(firstTokenMs) && chunk.includes('"content":"'))
              firstTokenMs = performance.now() - begin;
            text += chunk;
          });
          response.on('end', () => {
            const totalMs = performance.now() - begin;
            if (!text.includes('data: [DONE]'))
              reject(new Error('gpu-sim stream ended without [DONE]'));
            else resolve({ totalMs, firstTokenMs, text: sseText(text) });
          });
          response.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
}

/** The reply text of an SSE body, so every path can be checked to return the same reply. */
function sseText(body: string): string {
  let text = '';
  for (const line of body.split('\n')) {
    if (!line.startsWith('data: {')) continue;
    const chunk = JSON.parse(line.slice(6)) as { choices?: { delta?: { content?: string } }[] };
    text += chunk.choices?.[0]?.delta?.content ?? '';
  }
  return text;
}

function generateRequest(question: string, n: number): inference.GenerateRequest {
  return {
    requestId: `bench-${n}`,
    conversationId: `bench-conv-${n}`,
    tenantId: 'bench',
    model: '',
    messages: [{ role: common.Role.ROLE_USER, content: question, name: '' }],
    sampling: { maxTokens: MAX_TOKENS, seed: SEED, stop: [] },
    priority: common.Priority.PRIORITY_STANDARD,
    resumeFromText: '',
  };
}

function stackCall(client: GrpcClient<typeof inference.InferenceDefinition>): Call {
  return async (question, n) => {
    const begin = performance.now();
    let firstTokenMs = Number.NaN;
    let text = '';
    let completed = false;
    for await (const response of client.generate(generateRequest(question, n))) {
      const event = response.event;
      if (event?.$case === 'delta') {
        if (Number.isNaN(firstTokenMs)) firstTokenMs = performance.now() - begin;
        text += event.value.text;
      } else if (event?.$case === 'completed') completed = true;
    }
    if (!completed) throw new Error('the stream ended without GenerateCompleted');
    return { totalMs: performance.now() - begin, firstTokenMs, text };
  };
}

const generateMethod = inference.InferenceDefinition.methods.generate;
const serialize = {
  request: (value: inference.GenerateRequest) =>
    Buffer.from(generateMethod.requestType.encode(value).finish()),
  requestBytes: (bytes: Buffer) => generateMethod.requestType.decode(bytes),
  response: (value: inference.GenerateResponse) =>
    Buffer.from(generateMethod.responseType.encode(value).finish()),
  responseBytes: (bytes: Buffer) => generateMethod.responseType.decode(bytes),
};

function bareGrpcCall(address: string): { call: Call; close: () => void } {
  const client = new grpcJs.Client(address, grpcJs.credentials.createInsecure());
  const call: Call = (question, n) =>
    new Promise<Turn>((resolve, reject) => {
      const begin = performance.now();
      let firstTokenMs = Number.NaN;
      let text = '';
      let completed = false;
      const stream = client.makeServerStreamRequest(
        GENERATE_PATH,
        serialize.request,
        serialize.responseBytes,
        generateRequest(question, n),
      );
      stream.on('data', (response: inference.GenerateResponse) => {
        const event = response.event;
        if (event?.$case === 'delta') {
          if (Number.isNaN(firstTokenMs)) firstTokenMs = performance.now() - begin;
          text += event.value.text;
        } else if (event?.$case === 'completed') completed = true;
      });
      stream.on('error', reject);
      stream.on('end', () =>
        completed
          ? resolve({ totalMs: performance.now() - begin, firstTokenMs, text })
          : reject(new Error('the stream ended without GenerateCompleted')),
      );
    });
  return { call, close: () => client.close() };
}

/** The floors' answer: what the adapter would send, with no engine behind it. */
function echoReply(text: string): inference.GenerateResponse[] {
  return [
    { event: { $case: 'started', value: { shardId: 'floor', promptTokens: 30 } } },
    { event: { $case: 'delta', value: { text } } },
    {
      event: {
        $case: 'completed',
        value: {
          finishReason: common.FinishReason.FINISH_REASON_LENGTH,
          usage: {
            promptTokens: 30,
            completionTokens: MAX_TOKENS,
            totalTokens: 30 + MAX_TOKENS,
            cachedPromptTokens: 0,
          },
        },
      },
    },
  ];
}

/** Child-process mode: both floor servers, answering with the reply text passed in. */
async function serveFloors(bareAddress: string, stackPort: number, text: string): Promise<void> {
  const reply = echoReply(text);
  const bare = new grpcJs.Server();
  bare.register(
    GENERATE_PATH,
    (call: grpcJs.ServerWritableStream<inference.GenerateRequest, inference.GenerateResponse>) => {
      for (const message of reply) call.write(message);
      call.end();
    },
    serialize.response,
    serialize.requestBytes,
    'serverStream',
  );
  await new Promise<void>((resolve, reject) =>
    bare.bindAsync(bareAddress, grpcJs.ServerCredentials.createInsecure(), (error) =>
      error ? reject(error) : resolve(),
    ),
  );
  const stack = createGrpcServer({
    serviceName: 'adapter-overhead-floor',
    services: [
      {
        definition: inference.InferenceDefinition,
        implementation: {
          async *generate() {
            yield* reply;
          },
          prewarm: () => Promise.reject(new Error('not served')),
          drain: () => Promise.reject(new Error('not served')),
          getLoad: () => Promise.reject(new Error('not served')),
        },
      },
    ],
    port: stackPort,
  });
  await stack.start();
  console.log('floors listening');
}

/** CPU time (user + system) a child has used, from /proc (Linux; clock ticks of 10 ms). */
function cpuMsOf(child: ChildProcess): number {
  try {
    const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

function stats(values: readonly number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return {
    n: sorted.length,
    p50: round(at(0.5)),
    p90: round(at(0.9)),
    p99: round(at(0.99)),
    mean: round(sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length)),
  };
}

function round(v: number): number {
  return Math.round(v * 1_000) / 1_000;
}

function summarize(turns: Record<PathName, Turn[]>) {
  const total = (name: PathName) => stats(turns[name].map((t) => t.totalMs));
  const first = (name: PathName) => stats(turns[name].map((t) => t.firstTokenMs));
  const direct = total('direct');
  const directUds = total('directUds');
  const adapter = total('adapter');
  const withUds = turns.adapterUds.length > 0;
  const adapterUds = total('adapterUds');
  const floorGrpcJs = total('floorGrpcJs');
  const floorStack = total('floorStack');
  const directFirst = first('direct');
  const adapterFirst = first('adapter');
  const adapterUdsFirst = first('adapterUds');
  return {
    turnMs: {
      direct,
      directUds: withUds ? directUds : null,
      adapter,
      adapterUds: withUds ? adapterUds : null,
      floorGrpcJs,
      floorStack,
    },
    firstTokenMs: {
      direct: directFirst,
      adapter: adapterFirst,
      adapterUds: withUds ? adapterUdsFirst : null,
    },
    added: {
      turnP50: round(adapter.p50 - direct.p50),
      turnP99: round(adapter.p99 - direct.p99),
      firstTokenP50: round(adapterFirst.p50 - directFirst.p50),
      // What is left once the gRPC hop with Spillway's middleware is taken out.
      adapterOwnP50: round(adapter.p50 - direct.p50 - floorStack.p50),
      stackOverGrpcJsP50: round(floorStack.p50 - floorGrpcJs.p50),
    },
    // The adapter beside its engine, the engine on a Unix domain socket; the caller's direct path
    // stays TCP, as a router's would.
    addedEngineOnUds: withUds
      ? {
          turnP50: round(adapterUds.p50 - direct.p50),
          turnP99: round(adapterUds.p99 - direct.p99),
          firstTokenP50: round(adapterUdsFirst.p50 - directFirst.p50),
          adapterOwnP50: round(adapterUds.p50 - direct.p50 - floorStack.p50),
        }
      : null,
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // A profiled adapter must exit on its own for --cpu-prof to write the profile.
  child.kill(PROFILE_DIR && child.spawnargs.includes('--cpu-prof') ? 'SIGUSR2' : 'SIGTERM');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
}

async function main(): Promise<void> {
  const loadBefore = loadavg();
  const [simPort, grpcPort, udsGrpcPort, bareFloorPort, stackFloorPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const engineUrl = `http://127.0.0.1:${simPort}`;
  const socketDir = mkdtempSync(join(tmpdir(), 'adapter-overhead-'));
  const engineSocket = join(socketDir, 'gpu-sim.sock');
  const children: ChildProcess[] = [];
  const gpuSim = (listen: string[]) =>
    start(
      'gpu-sim',
      'services/gpu-sim',
      ['dist/main.js', ...listen, '--time-scale', String(TIME_SCALE), '--min-tick-ms', '0'],
      {},
      /gpu-sim listening/,
    );
  const adapter = (shardId: string, engine: string, port: number, profile: boolean) =>
    start(
      'inference-adapter',
      'services/inference-adapter',
      [ADAPTER_MAIN],
      {
        SHARD_ID: shardId,
        MODEL: 'llama-3.1-8b',
        ENGINE_URL: engine,
        GRPC_PORT: String(port),
        MAX_IN_FLIGHT_STREAMS: String(Math.max(64, CONCURRENCY * 2)),
      },
      /serving Inference on/,
      profile && PROFILE_DIR
        ? [
            '--cpu-prof',
            `--cpu-prof-dir=${PROFILE_DIR}`,
            '--import',
            'data:text/javascript,process.on("SIGUSR2",()=>process.exit(0))',
          ]
        : [],
    );
  try {
    const simChild = await gpuSim(['--port', String(simPort)]);
    children.push(simChild);
    await waitHealthy(`${engineUrl}/health`);
    const adapterChild = await adapter('bench-shard', engineUrl, grpcPort, true);
    children.push(adapterChild);
    const udsSimChild = WITH_UDS ? await gpuSim(['--uds', engineSocket]) : undefined;
    if (udsSimChild) children.push(udsSimChild);
    const udsAdapterChild = WITH_UDS
      ? await adapter('bench-shard-uds', `unix:${engineSocket}`, udsGrpcPort, false)
      : undefined;
    if (udsAdapterChild) children.push(udsAdapterChild);
    const direct = directCall(engineUrl);
    const directUds = directCall({ socketPath: engineSocket });
    const reference = await direct(QUESTIONS[0]!, -1);
    children.push(
      await start(
        'floors',
        'bench',
        [
          'dist/adapter-overhead.js',
          '--floors',
          `127.0.0.1:${bareFloorPort}`,
          String(stackFloorPort),
          reference.text,
        ],
        {},
        /floors listening/,
      ),
    );
    const adapterClient = createGrpcClient(inference.InferenceDefinition, `127.0.0.1:${grpcPort}`, {
      defaultDeadlineMs: 30_000,
    });
    const udsAdapterClient = createGrpcClient(
      inference.InferenceDefinition,
      `127.0.0.1:${udsGrpcPort}`,
      { defaultDeadlineMs: 30_000 },
    );
    // Its first health probe may have run before the socket's gpu-sim was up: wait for ready.
    if (WITH_UDS) await waitReady(udsAdapterClient);
    const stackFloorClient = createGrpcClient(
      inference.InferenceDefinition,
      `127.0.0.1:${stackFloorPort}`,
      { defaultDeadlineMs: 30_000 },
    );
    const bare = bareGrpcCall(`127.0.0.1:${bareFloorPort}`);
    const allCalls: Record<PathName, Call> = {
      direct,
      directUds,
      adapter: stackCall(adapterClient),
      adapterUds: stackCall(udsAdapterClient),
      floorGrpcJs: bare.call,
      floorStack: stackCall(stackFloorClient),
    };
    const names = (Object.keys(allCalls) as PathName[]).filter(
      (name) => WITH_UDS || (name !== 'adapterUds' && name !== 'directUds'),
    );
    const calls = allCalls;

    // Same reply every way, or the comparison means nothing.
    for (const name of names) {
      const turn = await calls[name](QUESTIONS[0]!, -1);
      if (turn.text !== reference.text)
        throw new Error(`${name} replied ${JSON.stringify(turn.text)}, not ${reference.text}`);
    }

    for (let i = 0; i < WARMUP; i++)
      for (const name of names) await calls[name](QUESTIONS[i % QUESTIONS.length]!, i);

    const cpuMs = (child: ChildProcess | undefined) => (child ? cpuMsOf(child) : Number.NaN);
    const processCpu = () => ({
      sim: cpuMsOf(simChild),
      adapter: cpuMsOf(adapterChild),
      udsSim: cpuMs(udsSimChild),
      udsAdapter: cpuMs(udsAdapterChild),
    });
    const turnsByPath = (): Record<PathName, Turn[]> => ({
      direct: [],
      directUds: [],
      adapter: [],
      adapterUds: [],
      floorGrpcJs: [],
      floorStack: [],
    });
    const cpuBefore = processCpu();
    const deadline = performance.now() + PHASE_LIMIT_MS;
    const sequential = turnsByPath();
    for (let i = 0; i < TURNS && performance.now() < deadline; i++) {
      const question = QUESTIONS[i % QUESTIONS.length]!;
      // Rotate which goes first so none always runs right after another's GC or timer.
      for (let k = 0; k < names.length; k++) {
        const name = names[(i + k) % names.length]!;
        sequential[name].push(await calls[name](question, i));
      }
    }

    const cpuAfter = processCpu();
    const seqCpu = {
      sim: cpuAfter.sim - cpuBefore.sim,
      adapter: cpuAfter.adapter - cpuBefore.adapter,
      udsSim: cpuAfter.udsSim - cpuBefore.udsSim,
      udsAdapter: cpuAfter.udsAdapter - cpuBefore.udsAdapter,
    };

    const concurrentRun = async (call: Call): Promise<{ turns: Turn[]; wallMs: number }> => {
      const turns: Turn[] = [];
      let next = 0;
      const limit = performance.now() + PHASE_LIMIT_MS / 4;
      const begin = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < CONCURRENT_TURNS && performance.now() < limit) {
            const n = next++;
            turns.push(await call(QUESTIONS[n % QUESTIONS.length]!, 100_000 + n));
          }
        }),
      );
      return { turns, wallMs: performance.now() - begin };
    };
    const concurrent = turnsByPath();
    const turnsPerSecond: Partial<Record<PathName, number>> = {};
    let conAdapterCpuMs = Number.NaN;
    let conUdsAdapterCpuMs = Number.NaN;
    for (const name of names) {
      const adapterCpu = cpuMsOf(adapterChild);
      const udsAdapterCpu = cpuMs(udsAdapterChild);
      const run = await concurrentRun(calls[name]);
      if (name === 'adapter') conAdapterCpuMs = cpuMsOf(adapterChild) - adapterCpu;
      if (name === 'adapterUds') conUdsAdapterCpuMs = cpuMs(udsAdapterChild) - udsAdapterCpu;
      concurrent[name] = run.turns;
      turnsPerSecond[name] = Math.round((run.turns.length / run.wallMs) * 1_000);
    }
    adapterClient.close();
    udsAdapterClient.close();
    stackFloorClient.close();
    bare.close();

    const report = {
      benchmark: 'adapter-overhead',
      node: process.version,
      cpus: availableParallelism(),
      cpuModel: cpus()[0]?.model ?? 'unknown',
      // Other work on the machine shows up in every figure; this says how much there was
      // (1, 5 and 15 minute load averages, as `uptime` prints them).
      loadAverage: { before: loadBefore.map(round), after: loadavg().map(round) },
      settings: {
        timeScale: TIME_SCALE,
        minTickMs: 0,
        maxTokens: MAX_TOKENS,
        warmupRounds: WARMUP,
        concurrency: CONCURRENCY,
        profiled: PROFILE_DIR !== undefined,
        adapterMain: ADAPTER_MAIN,
        engineOnUds: WITH_UDS,
      },
      method:
        'gpu-sim, inference-adapter and the floor servers as child processes on 127.0.0.1 (tracing on, ' +
        'no exporter); the bench process is the client. direct = node:http keep-alive POST ' +
        '/v1/chat/completions (stream) read to [DONE]; adapter = @spillway/grpc client, Inference.Generate ' +
        'read to GenerateCompleted; adapterUds = the same through a second adapter whose engine is a ' +
        'second gpu-sim on a Unix domain socket (ENGINE_URL=unix:…); directUds = that gpu-sim ' +
        'called directly over its socket; floorGrpcJs / floorStack = the same call answered at once (Started, ' +
        'one Delta, Completed) by a bare grpc-js server and client / by createGrpcServer and ' +
        'createGrpcClient. Times are per turn, in ms.',
      sequential: {
        turns: sequential.direct.length,
        // CPU per turn does not depend on how busy the machine is, unlike the latencies.
        // gpu-sim serves the direct and the adapter turns alike; the adapter only its own.
        cpuMsPerTurn: {
          adapterProcess: round(seqCpu.adapter / sequential.adapter.length),
          gpuSimProcess: round(seqCpu.sim / (sequential.adapter.length + sequential.direct.length)),
          udsAdapterProcess: round(seqCpu.udsAdapter / sequential.adapterUds.length),
          udsGpuSimProcess: round(
            seqCpu.udsSim / (sequential.adapterUds.length + sequential.directUds.length),
          ),
        },
        ...summarize(sequential),
      },
      concurrent: {
        turns: concurrent.direct.length,
        turnsPerSecond,
        cpuMsPerTurn: {
          adapterProcess: round(conAdapterCpuMs / concurrent.adapter.length),
          udsAdapterProcess: round(conUdsAdapterCpuMs / concurrent.adapterUds.length),
        },
        ...summarize(concurrent),
      },
    };
    writeFileSync(
      process.env.RESULTS_FILE ?? `${root}bench/results/adapter-overhead.json`,
      `${JSON.stringify(report, null, 2)}\n`,
    );
    console.log(JSON.stringify(report, null, 2));
  } finally {
    for (const child of children.reverse()) await stopChild(child);
    rmSync(socketDir, { recursive: true, force: true });
  }
}

const floorsAt = process.argv.indexOf('--floors');
if (floorsAt !== -1) {
  const [bareAddress, stackPort, text] = process.argv.slice(floorsAt + 1);
  await serveFloors(bareAddress!, Number(stackPort), text ?? '');
} else {
  await main();
}
