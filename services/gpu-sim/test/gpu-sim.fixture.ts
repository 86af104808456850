import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadProfile } from '../src/adapters/profiles/profile-file.js';
import type { EngineProfile } from '../src/domain/engine-profile.js';
import { startGpuSim, type GpuSimServer } from '../src/gpu-sim.app.js';
import type { GpuSimSettings } from '../src/gpu-sim.module.js';

export const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_DIR = resolve(PACKAGE_DIR, '../..');

export interface TestServerOptions {
  readonly profile?: string;
  readonly timeScale?: number;
  readonly seed?: number;
  /** Simulated model load time; 0 (ready at once) unless a test is about cold start. */
  readonly modelLoadMs?: number;
  readonly modelName?: string;
  readonly tweak?: (profile: EngineProfile) => EngineProfile;
}

/** An in-process gpu-sim on 127.0.0.1 and an ephemeral port. */
export async function startTestServer(options: TestServerOptions = {}): Promise<GpuSimServer> {
  const base = loadProfile(options.profile ?? 'llama-3.1-8b-h100');
  const profile = (options.tweak ?? ((p) => p))({ ...base, modelLoadMs: options.modelLoadMs ?? 0 });
  const settings: GpuSimSettings = {
    profile,
    modelName: options.modelName ?? profile.modelName,
    timeScale: options.timeScale ?? 1,
    seed: options.seed ?? 1234,
    fault: { mode: 'none' },
    minTickMs: 1,
    maxWritesPerSecond: 8000,
  };
  return startGpuSim(settings, { host: '127.0.0.1', port: 0 });
}

export async function postJson(
  url: string,
  body: unknown,
  init: RequestInit = {},
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });
}

/** Parses Prometheus text into `name{labels}` → value. */
export async function scrape(baseUrl: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

/** The value of the first sample whose name is `name` (any labels). */
export function sample(samples: Map<string, number>, name: string): number | undefined {
  for (const [key, value] of samples) if (key === name || key.startsWith(`${name}{`)) return value;
  return undefined;
}

/** Polls `check` every 10 ms until it returns true or `timeoutMs` passes (bounded, no timing assertion). */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

/**
 * Reads SSE `data:` payloads from a fetch response until the stream ends or `stopAfter` returns
 * true; in that case the response stays open (abort it through its AbortSignal to hang up).
 */
export async function readSse(
  response: Response,
  stopAfter?: (data: string[]) => boolean,
): Promise<string[]> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const data: string[] = [];
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value as Uint8Array, { stream: true });
    let at: number;
    while ((at = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      if (event.startsWith('data: ')) data.push(event.slice(6));
    }
    if (stopAfter?.(data)) {
      reader.releaseLock();
      break;
    }
  }
  return data;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds dist/ when it is missing or older than src/ (child-process tests run the built server). */
export function ensureBuilt(): void {
  const main = join(PACKAGE_DIR, 'dist/main.js');
  const libsBuilt = ['config', 'telemetry'].every((lib) =>
    existsSync(join(REPO_DIR, 'libs', lib, 'dist/index.js')),
  );
  if (!libsBuilt) {
    execFileSync('npx', ['turbo', 'run', 'build', '--filter=@spillway/gpu-sim^...'], {
      cwd: REPO_DIR,
      stdio: 'ignore',
    });
  }
  if (!existsSync(main) || statSync(main).mtimeMs < newestMtime(join(PACKAGE_DIR, 'src'))) {
    execFileSync(
      process.execPath,
      [
        join(REPO_DIR, 'node_modules/typescript/bin/tsc'),
        '-p',
        join(PACKAGE_DIR, 'tsconfig.build.json'),
      ],
      {
        cwd: REPO_DIR,
        stdio: 'ignore',
      },
    );
  }
}

export interface ChildServer {
  readonly child: ChildProcess;
  /** http://127.0.0.1:port, or unix:/path with --uds */
  readonly url: string;
  readonly exited: Promise<number | null>;
  stdout(): string;
}

/** Starts `node --import @spillway/telemetry/register dist/main.js …` on a free port (or `--uds`). */
export async function startChildServer(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<ChildServer> {
  ensureBuilt();
  const child = spawn(
    process.execPath,
    ['--import', '@spillway/telemetry/register', 'dist/main.js', '--port', '0', ...args],
    {
      cwd: PACKAGE_DIR,
      env: { ...process.env, ...env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolveExit) =>
    child.once('exit', (code) => resolveExit(code)),
  );
  let url: string | undefined;
  await eventually(() => {
    const match = /"url":"(http:\/\/127\.0\.0\.1:\d+|unix:[^"]+)"/.exec(out);
    url = match?.[1];
    if (child.exitCode !== null) throw new Error(`gpu-sim exited early: ${out}`);
    return url !== undefined;
  }, 30_000);
  return { child, url: url!, exited, stdout: () => out };
}
