// What the gateway itself adds to a turn. A ChatService that answers instantly (in this process,
// on a real gRPC port) stands in for the router, so the figures are the gateway's own work: HTTP
// and JSON parsing, API-key auth, the Redis quota script, admission, the gRPC hop and SSE
// framing. The same turns go to the fake router directly (gRPC Converse, read to TurnCompleted)
// and through the built gateway as a child process (POST /v1/chat/completions with stream: true,
// read to [DONE]), alternating turn by turn; then the same with concurrent callers.
// Writes bench/results/gateway-overhead.json (or RESULTS_FILE).
//
// Run: npx turbo run build --filter=@spillway/gateway...
//      npx tsc -p bench/tsconfig.build.json && node bench/dist/gateway-overhead.js
// Needs PostgreSQL and Redis on 127.0.0.1 (a private database is created and dropped).
// Knobs: TURNS (default 2000), CONCURRENCY (16), CONCURRENT_TURNS (2000), DELTAS (16).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { chat, common } from '@spillway/contracts';
import { createGrpcClient, createGrpcServer, type GrpcClient } from '@spillway/grpc';
import pg from 'pg';

const root = fileURLToPath(new URL('../..', import.meta.url));
const TURNS = Number(process.env.TURNS ?? 2_000);
const WARMUP = Math.min(200, TURNS);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const CONCURRENT_TURNS = Number(process.env.CONCURRENT_TURNS ?? 2_000);
const DELTAS = Number(process.env.DELTAS ?? 16);
const PHASE_LIMIT_MS = 180_000;
const POSTGRES = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const RESULTS_FILE = process.env.RESULTS_FILE ?? `${root}bench/results/gateway-overhead.json`;
const MODEL = 'bench-model';
const ADMIN_TOKEN = `bench-${randomBytes(8).toString('hex')}`;

const QUESTIONS = [
  'Where is my order? The tracking page has not changed since Monday.',
  'How do I reset my password if I no longer have access to my email?',
  'Can I return a product after thirty days if it is still sealed?',
];

interface Turn {
  readonly totalMs: number;
  readonly firstTokenMs: number;
  readonly text: string;
}

/** The router's ChatService reduced to an instant, deterministic reply of DELTAS words. */
function instantRouter() {
  let turn = 0;
  const unused = async (): Promise<never> => {
    throw new Error('not used by the benchmark');
  };
  return createGrpcServer({
    serviceName: 'bench-router',
    port: 0,
    services: [
      {
        definition: chat.ChatServiceDefinition,
        implementation: {
          startConversation: unused,
          getConversation: unused,
          listConversations: unused,
          closeConversation: unused,
          listModels: async () => ({
            models: [{ id: MODEL, ownedBy: 'bench', createdAtMs: 0, contextWindowTokens: 0 }],
          }),
          async *converse() {
            const turnId = `turn-${(turn += 1)}`;
            yield {
              event: { $case: 'started', value: { turnId, shardId: 's', placementReason: 'new' } },
            };
            for (let i = 0; i < DELTAS; i++) {
              yield { event: { $case: 'delta', value: { text: ` w${i}`, index: i } } };
            }
            yield {
              event: {
                $case: 'completed',
                value: {
                  turnId,
                  shardId: 's',
                  finishReason: common.FinishReason.FINISH_REASON_STOP,
                  usage: {
                    promptTokens: 16,
                    completionTokens: DELTAS,
                    totalTokens: 16 + DELTAS,
                    cachedPromptTokens: 0,
                  },
                  failovers: 0,
                },
              },
            };
          },
        },
      },
    ],
  });
}

function startGateway(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    ['--import', '@spillway/telemetry/register', 'dist/main.js'],
    {
      cwd: `${root}services/gateway`,
      env: { ...process.env, SPILLWAY_SERVICE: 'gateway', SPILLWAY_TRACE_EXPORTER: 'none', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`gateway not ready in 30 s:\n${output}`)),
      30_000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /gateway listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({ child, url: match[1] });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`gateway exited (${code}):\n${output}`)));
  });
}

async function direct(
  client: GrpcClient<typeof chat.ChatServiceDefinition>,
  tenantId: string,
  question: string,
): Promise<Turn> {
  const begin = performance.now();
  let firstTokenMs = Number.NaN;
  let text = '';
  let completed = false;
  for await (const response of client.converse({
    tenantId,
    conversationId: '',
    messages: [{ role: common.Role.ROLE_USER, content: question, name: '' }],
    sampling: { temperature: 0.7, stop: [] },
    priority: common.Priority.PRIORITY_STANDARD,
    idempotencyKey: '',
    ttftBudgetMs: 0,
    stateless: true,
    model: MODEL,
    endUser: '',
  })) {
    const event = response.event;
    if (event?.$case === 'delta') {
      if (Number.isNaN(firstTokenMs)) firstTokenMs = performance.now() - begin;
      text += event.value.text;
    } else if (event?.$case === 'completed') completed = true;
  }
  if (!completed) throw new Error('the router stream ended without TurnCompleted');
  return { totalMs: performance.now() - begin, firstTokenMs, text };
}

async function viaGateway(gatewayUrl: string, apiKey: string, question: string): Promise<Turn> {
  const begin = performance.now();
  const response = await fetch(`${gatewayUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({
      model: MODEL,
      messages: [{ role: 'user', content: question }],
      stream: true,
      temperature: 0.7,
    }),
  });
  if (!response.ok || !response.body) {
    throw new Error(`gateway answered HTTP ${response.status}: ${await response.text()}`);
  }
  const decoder = new TextDecoder();
  let body = '';
  let firstTokenMs = Number.NaN;
  for await (const bytes of response.body as AsyncIterable<Uint8Array>) {
    body += decoder.decode(bytes, { stream: true });
    if (Number.isNaN(firstTokenMs) && body.includes('"content":" w')) {
      firstTokenMs = performance.now() - begin;
    }
  }
  const totalMs = performance.now() - begin;
  if (!body.includes('data: [DONE]')) throw new Error('gateway stream ended without [DONE]');
  const text = body
    .split('\n\n')
    .filter((event) => event.startsWith('data: {'))
    .map(
      (event) =>
        (JSON.parse(event.slice(6)) as { choices: { delta: { content?: string } }[] }).choices[0]
          ?.delta.content ?? '',
    )
    .join('');
  return { totalMs, firstTokenMs, text };
}

/** CPU time (user + system) a process has used, in ms; Linux /proc, 10 ms resolution. */
function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
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

function summarize(directTurns: Turn[], gatewayTurns: Turn[]) {
  const d = stats(directTurns.map((t) => t.totalMs));
  const g = stats(gatewayTurns.map((t) => t.totalMs));
  const dFirst = stats(directTurns.map((t) => t.firstTokenMs));
  const gFirst = stats(gatewayTurns.map((t) => t.firstTokenMs));
  const round = (v: number) => Math.round(v * 1_000) / 1_000;
  return {
    turnMs: {
      direct: d,
      gateway: g,
      overheadP50: round(g.p50 - d.p50),
      overheadP99: round(g.p99 - d.p99),
    },
    firstTokenMs: {
      direct: dFirst,
      gateway: gFirst,
      overheadP50: round(gFirst.p50 - dFirst.p50),
      overheadP99: round(gFirst.p99 - dFirst.p99),
    },
  };
}

async function main(): Promise<void> {
  const loadBefore = loadavg()[0] ?? 0;
  const database = `spillway_bench_gateway_${randomBytes(4).toString('hex')}`;
  const databaseUrl = new URL(POSTGRES);
  databaseUrl.pathname = `/${database}`;
  const router = instantRouter();
  const routerPort = await router.start();
  let gateway: ChildProcess | undefined;
  try {
    const started = await startGateway({
      GATEWAY_PORT: '0',
      DATABASE_URL: databaseUrl.toString(),
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      GATEWAY_REDIS_KEY_PREFIX: `bench:${database}:`,
      ROUTER_ADDRESS: `127.0.0.1:${routerPort}`,
      GATEWAY_ADMIN_TOKEN: ADMIN_TOKEN,
      GATEWAY_MAX_CONCURRENT_TURNS: String(Math.max(256, CONCURRENCY * 4)),
    });
    gateway = started.child;
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
    const tenantResponse = await fetch(`${started.url}/admin/v1/tenants`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({
        name: 'bench',
        tier: 'standard',
        requests_per_minute: 1_000_000,
        tokens_per_minute: 1_000_000_000,
      }),
    });
    const tenant = (await tenantResponse.json()) as { id: string };
    const keyResponse = await fetch(`${started.url}/admin/v1/tenants/bench/keys`, {
      method: 'POST',
      headers: admin,
      body: '{}',
    });
    const { api_key: apiKey } = (await keyResponse.json()) as { api_key: string };
    const client = createGrpcClient(chat.ChatServiceDefinition, `127.0.0.1:${routerPort}`, {
      defaultDeadlineMs: 30_000,
    });

    const check = [
      await direct(client, tenant.id, QUESTIONS[0]!),
      await viaGateway(started.url, apiKey, QUESTIONS[0]!),
    ];
    if (check[0]!.text !== check[1]!.text) {
      throw new Error(`replies differ: ${JSON.stringify(check.map((t) => t.text))}`);
    }
    for (let i = 0; i < WARMUP; i++) {
      await direct(client, tenant.id, QUESTIONS[i % QUESTIONS.length]!);
      await viaGateway(started.url, apiKey, QUESTIONS[i % QUESTIONS.length]!);
    }

    const deadline = performance.now() + PHASE_LIMIT_MS;
    const seqDirect: Turn[] = [];
    const seqGateway: Turn[] = [];
    for (let i = 0; i < TURNS && performance.now() < deadline; i++) {
      const question = QUESTIONS[i % QUESTIONS.length]!;
      // Alternate which goes first so neither always runs on a warmer connection.
      if (i % 2 === 0) {
        seqDirect.push(await direct(client, tenant.id, question));
        seqGateway.push(await viaGateway(started.url, apiKey, question));
      } else {
        seqGateway.push(await viaGateway(started.url, apiKey, question));
        seqDirect.push(await direct(client, tenant.id, question));
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
          while (next < CONCURRENT_TURNS && performance.now() < limit) {
            turns.push(await run(next++));
          }
        }),
      );
      return { turns, wallMs: performance.now() - begin };
    };
    const conDirect = await concurrent((n) =>
      direct(client, tenant.id, QUESTIONS[n % QUESTIONS.length]!),
    );
    const cpuBefore = cpuMs(gateway.pid);
    const conGateway = await concurrent((n) =>
      viaGateway(started.url, apiKey, QUESTIONS[n % QUESTIONS.length]!),
    );
    const gatewayCpuMs = cpuMs(gateway.pid) - cpuBefore;
    client.close();

    const report = {
      benchmark: 'gateway-overhead',
      node: process.version,
      cpus: availableParallelism(),
      cpuModel: cpus()[0]?.model ?? 'unknown',
      loadAverage1m: { before: loadBefore, after: loadavg()[0] ?? 0 },
      settings: { deltasPerTurn: DELTAS, warmupPairs: WARMUP, concurrency: CONCURRENCY },
      method:
        'An instant ChatService in the bench process (real gRPC on 127.0.0.1) stands in for the router; ' +
        'the built gateway runs as a child process (tracing on, no exporter) with real PostgreSQL and ' +
        'Redis. direct = gRPC ChatService.Converse read to TurnCompleted; gateway = POST ' +
        '/v1/chat/completions (stream, temperature 0.7 so the cache is not used) read to [DONE]. ' +
        'Times are per turn, in ms; both paths share the same machine and the same fake router.',
      sequential: { turns: seqDirect.length, ...summarize(seqDirect, seqGateway) },
      concurrent: {
        turns: conDirect.turns.length,
        directTurnsPerSecond: Math.round((conDirect.turns.length / conDirect.wallMs) * 1_000),
        gatewayTurnsPerSecond: Math.round((conGateway.turns.length / conGateway.wallMs) * 1_000),
        // Independent of other load on the machine: what one turn costs the gateway process.
        gatewayCpuMsPerTurn: Math.round((gatewayCpuMs / conGateway.turns.length) * 1_000) / 1_000,
        ...summarize(conDirect.turns, conGateway.turns),
      },
    };
    writeFileSync(RESULTS_FILE, `${JSON.stringify(report, null, 2)}\n`);
    console.log(JSON.stringify(report, null, 2));
  } finally {
    gateway?.kill('SIGTERM');
    if (gateway && gateway.exitCode === null) {
      await new Promise((resolve) => gateway?.once('exit', resolve));
    }
    await router.shutdown(1_000);
    const adminDb = new pg.Client({ connectionString: POSTGRES });
    await adminDb.connect();
    await adminDb.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await adminDb.end();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
