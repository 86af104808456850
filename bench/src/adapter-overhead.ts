// What the inference adapter adds to a turn. One gpu-sim at a near-zero time scale (so the engine
// itself costs almost nothing) and one inference adapter in front of it, each a child process run
// as `npm start` runs it. The same turns go to gpu-sim's HTTP API directly (fetch, read the SSE
// stream to its end) and through the adapter's gRPC Generate stream, alternating turn by turn so
// drift hits both alike; then the same with concurrent callers. Writes
// bench/results/adapter-overhead.json.
//
// Run: npx turbo run build --filter=@spillway/gpu-sim... --filter=@spillway/inference-adapter...
//      npx tsc -p bench/tsconfig.build.json && node bench/dist/adapter-overhead.js
// Knobs: TURNS (default 2000), CONCURRENCY (16), CONCURRENT_TURNS (2000), MAX_TOKENS (16),
//        TIME_SCALE (0.001).
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { common, inference } from '@spillway/contracts';
import { createGrpcClient, type GrpcClient } from '@spillway/grpc';

const root = fileURLToPath(new URL('../..', import.meta.url));
const TURNS = Number(process.env.TURNS ?? 2_000);
const WARMUP = Math.min(200, TURNS);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const CONCURRENT_TURNS = Number(process.env.CONCURRENT_TURNS ?? 2_000);
const MAX_TOKENS = Number(process.env.MAX_TOKENS ?? 16);
const TIME_SCALE = Number(process.env.TIME_SCALE ?? 0.001);
const PHASE_LIMIT_MS = 180_000;
const SEED = 7;

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
): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', '@spillway/telemetry/register', ...args], {
    cwd: `${root}${cwd}`,
    env: { ...process.env, SPILLWAY_TRACE_EXPORTER: 'none', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} not ready in 30 s:\n${output}`)),
      30_000,
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

async function direct(engineUrl: string, question: string): Promise<Turn> {
  const begin = performance.now();
  const response = await fetch(`${engineUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({
      model: 'llama-3.1-8b',
      messages: [{ role: 'user', content: question }],
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: MAX_TOKENS,
      seed: SEED,
    }),
  });
  if (!response.ok || !response.body) throw new Error(`gpu-sim answered HTTP ${response.status}`);
  const decoder = new TextDecoder();
  let body = '';
  let firstTokenMs = Number.NaN;
  for await (const bytes of response.body as AsyncIterable<Uint8Array>) {
    body += decoder.decode(bytes, { stream: true });
    if (Number.isNaN(firstTokenMs) && body.includes('"content":"'))
      firstTokenMs = performance.now() - begin;
  }
  const totalMs = performance.now() - begin;
  if (!body.includes('data: [DONE]')) throw new Error('gpu-sim stream ended without [DONE]');
  // The text, so both paths can be checked to return the same reply.
  let text = '';
  for (const line of body.split('\n')) {
    if (!line.startsWith('data: {')) continue;
    const chunk = JSON.parse(line.slice(6)) as { choices?: { delta?: { content?: string } }[] };
    text += chunk.choices?.[0]?.delta?.content ?? '';
  }
  return { totalMs, firstTokenMs, text };
}

async function viaAdapter(
  client: GrpcClient<typeof inference.InferenceDefinition>,
  question: string,
  n: number,
): Promise<Turn> {
  const begin = performance.now();
  let firstTokenMs = Number.NaN;
  let text = '';
  let completed = false;
  for await (const response of client.generate({
    requestId: `bench-${n}`,
    conversationId: `bench-conv-${n}`,
    tenantId: 'bench',
    model: '',
    messages: [{ role: common.Role.ROLE_USER, content: question, name: '' }],
    sampling: { maxTokens: MAX_TOKENS, seed: SEED, stop: [] },
    priority: common.Priority.PRIORITY_STANDARD,
    resumeFromText: '',
  })) {
    const event = response.event;
    if (event?.$case === 'delta') {
      if (Number.isNaN(firstTokenMs)) firstTokenMs = performance.now() - begin;
      text += event.value.text;
    } else if (event?.$case === 'completed') completed = true;
  }
  if (!completed) throw new Error('the adapter stream ended without GenerateCompleted');
  return { totalMs: performance.now() - begin, firstTokenMs, text };
}

function stats(values: readonly number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  const round = (v: number) => Math.round(v * 1_000) / 1_000;
  return {
    n: sorted.length,
    p50: round(at(0.5)),
    p90: round(at(0.9)),
    p99: round(at(0.99)),
    mean: round(sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length)),
  };
}

function summarize(directTurns: Turn[], adapterTurns: Turn[]) {
  const d = stats(directTurns.map((t) => t.totalMs));
  const a = stats(adapterTurns.map((t) => t.totalMs));
  const dFirst = stats(directTurns.map((t) => t.firstTokenMs));
  const aFirst = stats(adapterTurns.map((t) => t.firstTokenMs));
  const round = (v: number) => Math.round(v * 1_000) / 1_000;
  return {
    turnMs: {
      direct: d,
      adapter: a,
      overheadP50: round(a.p50 - d.p50),
      overheadP99: round(a.p99 - d.p99),
    },
    firstTokenMs: {
      direct: dFirst,
      adapter: aFirst,
      overheadP50: round(aFirst.p50 - dFirst.p50),
      overheadP99: round(aFirst.p99 - dFirst.p99),
    },
  };
}

async function main(): Promise<void> {
  const loadBefore = loadavg()[0] ?? 0;
  const simPort = await freePort();
  const grpcPort = await freePort();
  const engineUrl = `http://127.0.0.1:${simPort}`;
  const children: ChildProcess[] = [];
  try {
    children.push(
      await start(
        'gpu-sim',
        'services/gpu-sim',
        [
          'dist/main.js',
          '--port',
          String(simPort),
          '--time-scale',
          String(TIME_SCALE),
          '--min-tick-ms',
          '0',
        ],
        {},
        /gpu-sim listening/,
      ),
    );
    await waitHealthy(`${engineUrl}/health`);
    children.push(
      await start(
        'inference-adapter',
        'services/inference-adapter',
        ['dist/main.js'],
        {
          SHARD_ID: 'bench-shard',
          MODEL: 'llama-3.1-8b',
          ENGINE_URL: engineUrl,
          GRPC_PORT: String(grpcPort),
          MAX_IN_FLIGHT_STREAMS: String(Math.max(64, CONCURRENCY * 2)),
        },
        /serving Inference on/,
      ),
    );
    const client = createGrpcClient(inference.InferenceDefinition, `127.0.0.1:${grpcPort}`, {
      defaultDeadlineMs: 30_000,
    });

    // Same reply both ways, or the comparison means nothing.
    const check = [
      await direct(engineUrl, QUESTIONS[0]!),
      await viaAdapter(client, QUESTIONS[0]!, -1),
    ];
    if (check[0]!.text !== check[1]!.text)
      throw new Error(`replies differ: ${JSON.stringify(check.map((t) => t.text))}`);

    for (let i = 0; i < WARMUP; i++) {
      await direct(engineUrl, QUESTIONS[i % QUESTIONS.length]!);
      await viaAdapter(client, QUESTIONS[i % QUESTIONS.length]!, i);
    }

    const deadline = performance.now() + PHASE_LIMIT_MS;
    const seqDirect: Turn[] = [];
    const seqAdapter: Turn[] = [];
    for (let i = 0; i < TURNS && performance.now() < deadline; i++) {
      const question = QUESTIONS[i % QUESTIONS.length]!;
      // Alternate which goes first so neither always runs on a warmer connection.
      if (i % 2 === 0) {
        seqDirect.push(await direct(engineUrl, question));
        seqAdapter.push(await viaAdapter(client, question, i));
      } else {
        seqAdapter.push(await viaAdapter(client, question, i));
        seqDirect.push(await direct(engineUrl, question));
      }
    }

    const concurrent = async (
      run: (n: number) => Promise<Turn>,
    ): Promise<{ turns: Turn[]; wallMs: number }> => {
      const turns: Turn[] = [];
      let next = 0;
      const limit = performance.now() + PHASE_LIMIT_MS;
      const begin = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < CONCURRENT_TURNS && performance.now() < limit)
            turns.push(await run(next++));
        }),
      );
      return { turns, wallMs: performance.now() - begin };
    };
    const conDirect = await concurrent((n) => direct(engineUrl, QUESTIONS[n % QUESTIONS.length]!));
    const conAdapter = await concurrent((n) =>
      viaAdapter(client, QUESTIONS[n % QUESTIONS.length]!, 100_000 + n),
    );
    client.close();

    const report = {
      benchmark: 'adapter-overhead',
      node: process.version,
      cpus: availableParallelism(),
      cpuModel: cpus()[0]?.model ?? 'unknown',
      // Other work on the machine shows up in every figure; this says how much there was.
      loadAverage1m: { before: loadBefore, after: loadavg()[0] ?? 0 },
      settings: {
        timeScale: TIME_SCALE,
        minTickMs: 0,
        maxTokens: MAX_TOKENS,
        warmupPairs: WARMUP,
        concurrency: CONCURRENCY,
      },
      method:
        'gpu-sim and inference-adapter as child processes on 127.0.0.1 (tracing on, no exporter); the bench ' +
        'process is the client. direct = fetch POST /v1/chat/completions (stream) read to [DONE]; adapter = ' +
        'gRPC Inference.Generate read to GenerateCompleted. Times are per turn, in ms.',
      sequential: { turns: seqDirect.length, ...summarize(seqDirect, seqAdapter) },
      concurrent: {
        turns: conDirect.turns.length,
        directTurnsPerSecond: Math.round((conDirect.turns.length / conDirect.wallMs) * 1_000),
        adapterTurnsPerSecond: Math.round((conAdapter.turns.length / conAdapter.wallMs) * 1_000),
        ...summarize(conDirect.turns, conAdapter.turns),
      },
    };
    writeFileSync(
      `${root}bench/results/adapter-overhead.json`,
      `${JSON.stringify(report, null, 2)}\n`,
    );
    console.log(JSON.stringify(report, null, 2));
  } finally {
    for (const child of children.reverse()) child.kill('SIGTERM');
  }
}

await main();
