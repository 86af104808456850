// Idle resident memory and idle CPU of every service as `npm start` runs them (three shards): start
// the whole system on offset ports, let it settle, read VmRSS of each service process from /proc,
// then its CPU time (user + system) over CPU_WINDOW_MS with no traffic at all.
// Writes bench/results/idle-rss.json.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const settleMs = Number(process.env.SETTLE_MS ?? 10_000);
const cpuWindowMs = Number(process.env.CPU_WINDOW_MS ?? 10_000);
const clockTicksPerSecond = 100; // USER_HZ on Linux

/** User + system CPU time the process has used so far, in ms (/proc/<pid>/stat fields 14, 15). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicksPerSecond;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round((Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024) * 10) / 10;
}

function childrenOf(parent: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      try {
        return (
          Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]) === parent
        );
      } catch {
        return false; // exited meanwhile
      }
    });
}

const started = Date.now();
const system = spawn(process.execPath, ['scripts/start.mjs'], {
  cwd: root,
  env: {
    ...process.env,
    SPILLWAY_PORT_OFFSET: '4000',
    SPILLWAY_DATABASE_PREFIX: 'spillway_bench',
    SPILLWAY_SKIP_BUILD: '1',
    SPILLWAY_LOG_DIR: '/tmp/spillway-bench-logs',
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let output = '';
await new Promise<void>((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`system not up:\n${output}`)), 150_000);
  system.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (output.includes('Press Ctrl-C')) {
      clearTimeout(timer);
      resolve();
    }
  });
});
const readyMs = Date.now() - started;
await sleep(settleMs);
const services = childrenOf(system.pid ?? 0);
const cpuBefore = new Map(services.map((pid) => [pid, cpuMs(pid)]));
const windowStarted = performance.now();
await sleep(cpuWindowMs);
const windowMs = performance.now() - windowStarted;
const results = services.map((pid) => {
  const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  const name = env.find((v) => v.startsWith('SPILLWAY_SERVICE='))?.split('=')[1] ?? String(pid);
  const shard = env.find((v) => v.startsWith('SHARD_ID='))?.split('=')[1];
  const port = env.find((v) => v.startsWith('GPU_SIM_PORT='))?.split('=')[1];
  return {
    service: shard ? `${name} (${shard})` : port ? `${name} (:${port})` : name,
    rssMb: rssMb(pid),
    idleCpuMsPerSecond: Math.round(((cpuMs(pid) - (cpuBefore.get(pid) ?? 0)) / windowMs) * 1000),
  };
});
system.kill('SIGINT');
await new Promise((resolve) => system.once('exit', resolve));
const report = {
  benchmark: 'idle-rss',
  node: process.version,
  readyMs,
  settleMs,
  cpuWindowMs,
  loadAverage: loadavg(),
  results,
};
writeFileSync(`${root}bench/results/idle-rss.json`, `${JSON.stringify(report, null, 2)}\n`);
console.log(`system ready in ${readyMs} ms (build skipped)`);
console.table(results);
