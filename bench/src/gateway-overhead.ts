// What Spillway's whole path costs on top of the GPU engine, in one run on one machine:
//   direct   — POST /v1/chat/completions to gpu-sim itself;
//   nginx    — the same through nginx (1 worker, keep-alive upstream) to the same gpu-sim;
//   spillway — the same through the gateway (auth, quota in Redis, admission) → router (placement)
//              → inference-adapter → the same gpu-sim, and, for stored conversations,
//              POST /v1/conversations/:id/turns, which also goes through conversation-state.
// gpu-sim runs at zero latency (SPILLWAY_TIME_SCALE=0), so whatever the paths add is the software's
// own cost. The whole system is started as users start it (scripts/start.mjs, one shard, its own
// ports and databases). The load comes from bench/src/http-load.ts in its own process.
//   1. closed loop, one caller: each round sends one request to every target in turn (rotating the
//      order); added latency = target p50/p99 − direct p50/p99, non-streaming and streaming.
//   2. cost: per path, both kinds, 4 closed-loop callers: CPU ms per request of every process
//      (its idle burn subtracted), and the request rate two idle cores could serve at that cost;
//   3. open-loop sweep per target and kind: fixed request rates, STEP_MS each; a rate is held when
//      every request succeeded and p99 < 50 ms (latency counted from the scheduled send time).
// Writes bench/results/gateway-overhead.json (or RESULTS_FILE).
//
// Run: npx turbo run build --filter=@spillway/bench... && npm run gateway-overhead -w @spillway/bench
// Uses nginx if it is on PATH (apt-get install nginx; it is started from a temporary directory,
// never as a system service; without it the nginx path is skipped). Needs Kafka, PostgreSQL and
// Redis (deploy/local/up.sh).
// Knobs: ROUNDS (500), CONCURRENCY (1), COST_ROUNDS (500), RATES (100,250,500,1000,1500,2000),
// STEP_MS (3000), MAX_TOKENS (16), PORT_OFFSET (5000), KEEP_LOGS (1 keeps the services' logs),
// PROFILE_DIR (every service runs with --cpu-prof into it; needs Node 24, which allows it in
// NODE_OPTIONS).
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { LoadJob, LoadResult, LoadTarget } from './http-load.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const ROUNDS = Number(process.env.ROUNDS ?? 500);
const COST_ROUNDS = Number(process.env.COST_ROUNDS ?? 500);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 1);
const RATES = (process.env.RATES ?? '100,250,500,1000,1500,2000').split(',').map(Number);
const STEP_MS = Number(process.env.STEP_MS ?? 3_000);
const MAX_TOKENS = Number(process.env.MAX_TOKENS ?? 16);
const PORT_OFFSET = Number(process.env.PORT_OFFSET ?? 5_000);
const PROFILE_DIR = process.env.PROFILE_DIR;
const P99_LIMIT_MS = 50;
const CONVERSATIONS = 50;
const POSTGRES = 'postgres://postgres@127.0.0.1:5432/postgres';
const RESULTS_FILE = process.env.RESULTS_FILE ?? `${root}bench/results/gateway-overhead.json`;
const MODEL = 'spillway-8b';
const DATABASE_PREFIX = `spillway_bench_gw_${randomBytes(3).toString('hex')}`;
const GPU_SIM_URL = `http://127.0.0.1:${8100 + PORT_OFFSET}`;
const GATEWAY_URL = `http://127.0.0.1:${8080 + PORT_OFFSET}`;

type Kind = 'nonstream' | 'stream';
const KINDS: readonly Kind[] = ['nonstream', 'stream'];
type Path = 'direct' | 'nginx' | 'spillway';
const HAVE_NGINX = spawnSync('nginx', ['-v']).error === undefined;
const PATHS: readonly Path[] = HAVE_NGINX
  ? ['direct', 'nginx', 'spillway']
  : ['direct', 'spillway'];

function body(kind: Kind, withModel = true): string {
  return JSON.stringify({
    ...(withModel ? { model: MODEL } : {}),
    messages: [{ role: 'user', content: 'Where is my order? It has not moved since Monday.' }],
    max_tokens: MAX_TOKENS,
    // Not 0: the gateway answers temperature-0 repeats from its response cache.
    temperature: 0.7,
    ...(kind === 'stream' ? { stream: true } : {}),
  });
}

// ---------------------------------------------------------------- processes

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function stop(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`not ready after ${timeoutMs} ms:\n${output.slice(-3_000)}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (pattern.test(output)) {
        clearTimeout(timer);
        resolve(output);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}):\n${output.slice(-3_000)}`));
    });
  });
}

async function startSystem(logDir: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['scripts/start.mjs'], {
    cwd: root,
    env: {
      ...process.env,
      SPILLWAY_PORT_OFFSET: String(PORT_OFFSET),
      SPILLWAY_DATABASE_PREFIX: DATABASE_PREFIX,
      SPILLWAY_SHARDS: '1',
      SPILLWAY_TIME_SCALE: '0',
      SPILLWAY_MODEL_LOAD_MS: '0',
      SPILLWAY_SKIP_BUILD: '1',
      SPILLWAY_LOG_DIR: logDir,
      ...(PROFILE_DIR ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${PROFILE_DIR}` } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await waitForOutput(child, /Press Ctrl-C to stop/, 180_000);
  return child;
}

/** The bench tenant: limits far above any rate measured here, so quotas never refuse. */
function createBenchKey(): string {
  const admin = (...args: string[]) => {
    const result = spawnSync(process.execPath, ['dist/admin.js', ...args, '--json'], {
      cwd: `${root}services/gateway`,
      encoding: 'utf8',
      env: {
        ...process.env,
        DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${DATABASE_PREFIX}_gateway`,
        REDIS_URL: 'redis://127.0.0.1:6379',
      },
    });
    if (result.status !== 0) throw new Error(`admin ${args[0]} failed: ${result.stderr}`);
    return result.stdout;
  };
  admin(
    'create-tenant',
    '--name',
    'bench',
    '--tier',
    'premium',
    '--rpm',
    '1000000',
    '--tpm',
    '1000000000',
  );
  return (
    JSON.parse(admin('create-key', '--tenant', 'bench', '--name', 'bench')) as {
      api_key: string;
    }
  ).api_key;
}

async function startNginx(
  dir: string,
  upstreamPort: number,
): Promise<{
  child: ChildProcess;
  url: string;
}> {
  const port = await freePort();
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  keepalive_requests 1000000;
  upstream gpusim {
    server 127.0.0.1:${upstreamPort};
    keepalive 256;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://gpusim;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
`,
  );
  const child = spawn('nginx', ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`nginx exited: ${readFileSync(join(dir, 'error.log'), 'utf8')}`);
    try {
      await fetch(`${url}/health`);
      return { child, url };
    } catch {
      if (Date.now() > deadline) throw new Error('nginx did not come up in 10 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

// ---------------------------------------------------------------- load generator

class LoadGenerator {
  private constructor(private readonly child: ChildProcess) {}

  static async start(): Promise<LoadGenerator> {
    const child = fork(fileURLToPath(new URL('./http-load.js', import.meta.url)), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`load generator exited (${code})`)));
    });
    return new LoadGenerator(child);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  run(job: LoadJob): Promise<LoadResult> {
    return new Promise((resolve, reject) => {
      this.child.once('message', (message: { ok: boolean; result?: LoadResult; error?: string }) =>
        message.ok && message.result ? resolve(message.result) : reject(new Error(message.error)),
      );
      this.child.send(job);
    });
  }

  stop(): Promise<void> {
    return stop(this.child, 'SIGTERM');
  }
}

// ---------------------------------------------------------------- measurement

const round3 = (v: number) => Math.round(v * 1_000) / 1_000;

function stats(values: readonly number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return {
    n: sorted.length,
    p50: round3(at(0.5)),
    p90: round3(at(0.9)),
    p99: round3(at(0.99)),
    max: round3(sorted.at(-1) ?? Number.NaN),
  };
}

/** The services start.mjs runs, by name (from each child's working directory), and their pids. */
function servicePids(systemPid: number): Record<string, number> {
  const pids: Record<string, number> = {};
  const children = readFileSync(`/proc/${systemPid}/task/${systemPid}/children`, 'utf8')
    .trim()
    .split(/\s+/)
    .map(Number);
  for (const pid of children) {
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      pids[cwd.slice(cwd.lastIndexOf('/') + 1)] = pid;
    } catch {
      // exited in between
    }
  }
  return pids;
}

/** CPU time (user + system) of a process, ms; Linux /proc, 10 ms resolution. */
function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

function cpuSnapshot(pids: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMs(pid)]));
}

/**
 * CPU ms per request of each process over a step, less what the process burns idle (heartbeats,
 * Kafka polls, timers) over the same wall time.
 */
function cpuPerRequest(
  before: Record<string, number>,
  after: Record<string, number>,
  wallMs: number,
  requests: number,
  idleMsPerSecond: Record<string, number>,
): Record<string, number> {
  return Object.fromEntries(
    Object.keys(before).map((name) => {
      const used = (after[name] ?? Number.NaN) - (before[name] ?? Number.NaN);
      const idle = ((idleMsPerSecond[name] ?? 0) * wallMs) / 1_000;
      return [name, round3(Math.max(0, used - idle) / Math.max(1, requests))];
    }),
  );
}

async function main(): Promise<void> {
  const workDir = mkdtempSync(join(tmpdir(), 'spillway-bench-gw-'));
  const loadAverages: { at: string; load1m: number }[] = [];
  const noteLoad = (at: string) => loadAverages.push({ at, load1m: loadavg()[0] ?? 0 });
  noteLoad('start');
  if (PROFILE_DIR) mkdirSync(PROFILE_DIR, { recursive: true });
  let system: ChildProcess | undefined;
  let nginx: ChildProcess | undefined;
  let load: LoadGenerator | undefined;
  try {
    system = await startSystem(join(workDir, 'logs'));
    const apiKey = createBenchKey();
    if (!HAVE_NGINX) console.error('nginx is not on PATH: the nginx path is skipped');
    const started = HAVE_NGINX
      ? await startNginx(join(workDir, 'nginx'), 8100 + PORT_OFFSET)
      : undefined;
    nginx = started?.child;
    load = await LoadGenerator.start();
    const pids: Record<string, number> = {
      ...servicePids(system.pid!),
      'load-generator': load.pid!,
    };
    if (started) {
      pids.nginx = Number(readFileSync(join(workDir, 'nginx', 'nginx.pid'), 'utf8'));
      // nginx's master only supervises; its one worker does the proxying.
      const worker = readFileSync(`/proc/${pids.nginx}/task/${pids.nginx}/children`, 'utf8').trim();
      if (worker !== '') pids.nginx = Number(worker.split(/\s+/)[0]);
    }

    const auth = { authorization: `Bearer ${apiKey}` };
    const conversations: string[] = [];
    for (let i = 0; i < CONVERSATIONS; i++) {
      const response = await fetch(`${GATEWAY_URL}/v1/conversations`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL }),
      });
      if (response.status !== 201) throw new Error(`create conversation: ${await response.text()}`);
      conversations.push(((await response.json()) as { id: string }).id);
    }

    const target = (path: Path, kind: Kind): LoadTarget => ({
      name: `${path}.${kind}`,
      urls: [
        `${path === 'direct' ? GPU_SIM_URL : path === 'nginx' ? (started?.url ?? GPU_SIM_URL) : GATEWAY_URL}/v1/chat/completions`,
      ],
      headers: path === 'spillway' ? auth : {},
      body: body(kind),
      stream: kind === 'stream',
    });
    const storedTurns = (kind: Kind): LoadTarget => ({
      name: `spillway-conversation.${kind}`,
      urls: conversations.map((id) => `${GATEWAY_URL}/v1/conversations/${id}/turns`),
      headers: auth,
      body: body(kind, false),
      stream: kind === 'stream',
    });
    const everything = [
      ...KINDS.flatMap((kind) => PATHS.map((path) => target(path, kind))),
      ...KINDS.map(storedTurns),
    ];

    // Warm-up: JIT, connection pools, the auth cache, every route once at least.
    const warm = await load.run({
      kind: 'closed',
      targets: everything,
      rounds: 100,
      concurrency: 4,
      maxMs: 60_000,
    });
    const warmErrors = Object.values(warm.errors).reduce((a, b) => a + b, 0);
    if (warmErrors > 0) throw new Error(`warm-up failed: ${warm.errorSamples.join('\n')}`);
    noteLoad('after warm-up');

    // What every process burns with no requests at all, subtracted from the per-request figures.
    const IDLE_MS = 3_000;
    const idleBefore = cpuSnapshot(pids);
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    const idleAfter = cpuSnapshot(pids);
    const idleMsPerSecond = Object.fromEntries(
      Object.keys(idleBefore).map((name) => [
        name,
        round3(((idleAfter[name] ?? 0) - (idleBefore[name] ?? 0)) / (IDLE_MS / 1_000)),
      ]),
    );

    // 1. Closed loop.
    const closed = await load.run({
      kind: 'closed',
      targets: everything,
      rounds: ROUNDS,
      concurrency: CONCURRENCY,
      maxMs: 180_000,
    });
    noteLoad('after closed loop');
    const closedStats = Object.fromEntries(
      Object.entries(closed.latenciesMs).map(([name, values]) => [
        name,
        { ...stats(values), errors: closed.errors[name] ?? 0 },
      ]),
    );
    const added = (name: string, kind: Kind) => {
      const d = closedStats[`direct.${kind}`]!;
      const t = closedStats[name]!;
      return { p50: round3(t.p50 - d.p50), p99: round3(t.p99 - d.p99) };
    };
    const addedLatencyMs = Object.fromEntries(
      everything
        .filter((t) => !t.name.startsWith('direct.'))
        .map((t) => [t.name, added(t.name, t.stream ? 'stream' : 'nonstream')]),
    );

    // 2. Cost: CPU per request of every process, per path, at a steady closed-loop load.
    const cost: Record<string, unknown> = {};
    for (const path of PATHS) {
      const targets = KINDS.map((kind) => target(path, kind));
      const before = cpuSnapshot(pids);
      const result = await load.run({
        kind: 'closed',
        targets,
        rounds: COST_ROUNDS,
        concurrency: 4,
        maxMs: 120_000,
      });
      const cpu = cpuPerRequest(
        before,
        cpuSnapshot(pids),
        result.wallMs,
        result.sent,
        idleMsPerSecond,
      );
      const total = Object.entries(cpu)
        .filter(([name]) => name !== 'load-generator')
        .reduce((sum, [, ms]) => sum + ms, 0);
      cost[path] = {
        requests: result.sent,
        errors: Object.values(result.errors).reduce((a, b) => a + b, 0),
        requestsPerSecond: Math.round((result.sent / result.wallMs) * 1_000),
        cpuMsPerRequest: cpu,
        serverCpuMsPerRequest: round3(total),
        // What two fully idle cores could serve at that cost, ignoring the load generator.
        cpuBoundRpsOnTwoCores: Math.round(2_000 / Math.max(total, 0.001)),
      };
      console.log(JSON.stringify({ cost: path, ...(cost[path] as object) }));
    }
    noteLoad('after cost');

    // 3. Open-loop sweep.
    const sweep: Record<string, unknown[]> = {};
    const maxHeldRps: Record<string, number> = {};
    for (const kind of KINDS) {
      for (const path of PATHS) {
        const t = target(path, kind);
        sweep[t.name] = [];
        maxHeldRps[t.name] = 0;
        for (const rate of RATES) {
          await new Promise((resolve) => setTimeout(resolve, 500));
          const before = cpuSnapshot(pids);
          const result = await load.run({
            kind: 'open',
            target: t,
            ratePerSecond: rate,
            durationMs: STEP_MS,
            graceMs: 5_000,
            maxInFlight: 2_000,
          });
          const cpu = cpuPerRequest(
            before,
            cpuSnapshot(pids),
            result.wallMs,
            result.sent,
            idleMsPerSecond,
          );
          const latency = stats(result.latenciesMs[t.name] ?? []);
          const errors = result.errors[t.name] ?? 0;
          const held = errors === 0 && latency.p99 < P99_LIMIT_MS;
          const step = {
            rate,
            achievedRps: Math.round(
              ((result.latenciesMs[t.name]?.length ?? 0) / result.wallMs) * 1_000,
            ),
            held,
            errors,
            latencyMs: latency,
            cpuMsPerRequest: cpu,
            load1m: loadavg()[0] ?? 0,
            ...(result.errorSamples.length > 0 ? { errorSamples: result.errorSamples } : {}),
          };
          sweep[t.name]!.push(step);
          console.log(JSON.stringify({ target: t.name, ...step }));
          if (!held) {
            // An overloaded step can leave the shard marked failed for a while: wait until the
            // path answers again, so the next target starts from a healthy system.
            await recover(load, t);
            break;
          }
          maxHeldRps[t.name] = rate;
        }
      }
    }
    noteLoad('after sweep');

    const report = {
      benchmark: 'gateway-overhead',
      node: process.version,
      cpus: availableParallelism(),
      cpuModel: cpus()[0]?.model ?? 'unknown',
      loadAverage1m: loadAverages,
      settings: {
        maxTokens: MAX_TOKENS,
        closedLoopRounds: ROUNDS,
        closedLoopConcurrency: CONCURRENCY,
        rates: RATES,
        stepMs: STEP_MS,
        p99LimitMs: P99_LIMIT_MS,
        storedConversations: CONVERSATIONS,
        gpuSimTimeScale: 0,
        shards: 1,
        profiled: PROFILE_DIR !== undefined,
        nginx: HAVE_NGINX,
      },
      method:
        'One run, one machine. The whole system started by scripts/start.mjs (1 shard, gpu-sim at ' +
        'zero latency, tracing on without an exporter), nginx 1 worker proxying to the same gpu-sim, ' +
        'load from a separate keep-alive node:http process. direct/nginx/spillway = POST ' +
        '/v1/chat/completions (temperature 0.7, max_tokens as set), read to the end (stream: to ' +
        '[DONE]); spillway-conversation = POST /v1/conversations/:id/turns (also conversation-state). ' +
        'Closed loop: one request per target per round, rotating order. Sweep: open loop, latency ' +
        'from the scheduled send time; held = no errors and p99 < 50 ms.',
      closedLoop: {
        latencyMs: closedStats,
        addedLatencyMs,
      },
      idleCpuMsPerSecond: idleMsPerSecond,
      cost,
      maxHeldRps,
      sweep,
    };
    writeFileSync(RESULTS_FILE, `${JSON.stringify(report, null, 2)}\n`);
    console.log(JSON.stringify({ closedLoop: report.closedLoop, maxHeldRps }, null, 2));
  } catch (error) {
    process.exitCode = 1;
    throw error;
  } finally {
    await load?.stop();
    await stop(nginx, 'SIGQUIT');
    await stop(system, 'SIGINT');
    await dropDatabases(DATABASE_PREFIX);
    if (process.exitCode === 1 || process.env.KEEP_LOGS === '1')
      console.error(`logs kept in ${workDir}/logs`);
    else rmSync(workDir, { recursive: true, force: true });
  }
}

async function recover(load: LoadGenerator, target: LoadTarget): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const probe = await load.run({
      kind: 'closed',
      targets: [target],
      rounds: 5,
      concurrency: 1,
      maxMs: 10_000,
    });
    if ((probe.errors[target.name] ?? 0) === 0) return;
  }
}

async function dropDatabases(prefix: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      'select datname from pg_database where datname like $1',
      [`${prefix}%`],
    );
    for (const { datname } of rows)
      await client.query(`drop database if exists "${datname}" with (force)`);
  } finally {
    await client.end();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
