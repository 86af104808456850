// Shared by the gpu-sim benches: start the built simulator as a child process, talk to it, write
// results. Plain Node (no workspace imports); built with the bench package
// (`npm run build -w @spillway/bench`) and run as `node bench/dist/gpu-sim-<name>.js`.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const GPU_SIM_DIR = join(REPO, 'services/gpu-sim');

export interface GpuSimProcess {
  readonly url: string;
  readonly pid: number;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts services/gpu-sim/dist/main.js (build it first) and waits for /health to be 200. */
export async function startGpuSim(args: readonly string[]): Promise<GpuSimProcess> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      '@spillway/telemetry/register',
      'dist/main.js',
      '--port',
      '0',
      '--load-time-ms',
      '0',
      ...args,
    ],
    {
      cwd: GPU_SIM_DIR,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const deadline = Date.now() + 30_000;
  let url: string | undefined;
  while (!url) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`gpu-sim did not start: ${out}`);
    url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out)?.[1];
    await sleep(20);
  }
  while ((await fetch(`${url}/health`)).status !== 200) await sleep(20);
  return {
    url,
    pid: child.pid!,
    child,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Prometheus text → `name{labels}` → value. */
export async function scrape(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

export function metric(samples: Map<string, number>, name: string): number {
  for (const [key, value] of samples) if (key === name || key.startsWith(`${name}{`)) return value;
  return Number.NaN;
}

/** Prompt token ids that share nothing with any other call's (so the prefix cache never hits). */
let uniqueCounter = 0;
export function uniquePrompt(length: number): number[] {
  const base = 1_000_000 + ((uniqueCounter++ * 7919) % 50_000_000);
  return Array.from({ length }, (_, i) => base + i * 13);
}

export interface StreamTiming {
  /** Wall clock (performance.now) when the request was sent. */
  readonly startedAt: number;
  /** Wall ms from request start to the first token chunk. */
  readonly ttftMs: number;
  /** Wall ms from request start to the last token chunk. */
  readonly lastMs: number;
  readonly tokens: number;
  /** Exact simulated timings the server disclosed (x-gpu-sim-timings), ms. */
  readonly server:
    | { readonly ttftMs: number; readonly firstTokenMs: number; readonly lastTokenMs: number }
    | undefined;
}

/**
 * One streaming /v1/completions call with a token-id prompt, timing the first and last token
 * chunks on arrival (a chunk carries one token; several may arrive in one read).
 */
export async function timedCompletion(
  url: string,
  prompt: number[],
  maxTokens: number,
  signal?: AbortSignal,
): Promise<StreamTiming> {
  const started = performance.now();
  const response = await fetch(`${url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-gpu-sim-timings': '1' },
    body: JSON.stringify({ prompt, max_tokens: maxTokens, ignore_eos: true, stream: true }),
    ...(signal ? { signal } : {}),
  });
  if (response.status !== 200)
    throw new Error(`status ${response.status}: ${await response.text()}`);
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body!.getReader();
  const decoder = new TextDecoder();
  let ttftMs = -1;
  let lastMs = -1;
  let tokens = 0;
  let buffer = '';
  let server: StreamTiming['server'];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const now = performance.now() - started;
    buffer += decoder.decode(value, { stream: true });
    let at: number;
    while ((at = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      if (event.startsWith('data: {') && event.includes('"text":')) {
        tokens++;
        if (ttftMs < 0) ttftMs = now;
        lastMs = now;
      } else if (event.includes('"gpu_sim_timings"')) {
        const t = (
          JSON.parse(event.slice(6)) as {
            gpu_sim_timings: { ttft_ms: number; first_token_ms: number; last_token_ms: number };
          }
        ).gpu_sim_timings;
        server = {
          ttftMs: t.ttft_ms,
          firstTokenMs: t.first_token_ms,
          lastTokenMs: t.last_token_ms,
        };
      }
    }
  }
  return { startedAt: started, ttftMs, lastMs, tokens, server };
}

export function writeResult(name: string, result: unknown): string {
  const path = join(REPO, 'bench/results', `${name}.json`);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
  return path;
}

export function readProfile(id: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(GPU_SIM_DIR, 'profiles', `${id}.json`), 'utf8')) as Record<
    string,
    unknown
  >;
}

/** utime + stime of a process in seconds (Linux /proc). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields after the command: state is [0]; utime is field 14 overall → index 11 here, stime 12.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / 100; // CLK_TCK is 100 on Linux
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
