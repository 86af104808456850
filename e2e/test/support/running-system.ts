import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = fileURLToPath(new URL('../../..', import.meta.url));

export interface RunningSystem {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly logDir: string;
  /** HTTP base of shard i's simulated GPU (for /metrics). */
  gpuSimUrl(i: number): string;
  stop(): Promise<void>;
}

export interface SystemOptions {
  readonly portOffset: number;
  readonly shards: number;
  readonly env?: Readonly<Record<string, string>>;
  /** Default `spillway_e2e_<pid>`; suites that run side by side each pass their own. */
  readonly databasePrefix?: string;
  /** Bound on `npm start` printing its banner; default 150 s. */
  readonly readyTimeoutMs?: number;
}

/**
 * Starts the whole system exactly as a user does (`npm start`, i.e. scripts/start.mjs), beside any
 * system a developer already runs: other ports, its own databases, logs in a temporary folder.
 */
export async function startSystem(options: SystemOptions): Promise<RunningSystem> {
  const databasePrefix = options.databasePrefix ?? `spillway_e2e_${process.pid}`;
  const logDir = mkdtempSync(join(tmpdir(), 'spillway-e2e-'));
  const child = spawn(process.execPath, ['scripts/start.mjs'], {
    cwd: root,
    env: {
      ...process.env,
      SPILLWAY_PORT_OFFSET: String(options.portOffset),
      SPILLWAY_DATABASE_PREFIX: databasePrefix,
      SPILLWAY_SHARDS: String(options.shards),
      SPILLWAY_LOG_DIR: logDir,
      SPILLWAY_SKIP_BUILD: '1',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: false,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  try {
    await new Promise<void>((resolve, reject) => {
      const readyTimeoutMs = options.readyTimeoutMs ?? 150_000;
      const timer = setTimeout(
        () => reject(new Error(`system not up after ${readyTimeoutMs} ms:\n${output}`)),
        readyTimeoutMs,
      );
      child.stdout.on('data', () => {
        if (/Press Ctrl-C to stop/.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`npm start exited with ${code}:\n${output}`));
      });
    });
  } catch (error) {
    await stopProcess(child);
    // The services that did start created their databases.
    await dropDatabases(databasePrefix).catch(() => undefined);
    throw error;
  }
  const baseUrl = /base URL:\s+(\S+)/.exec(output)?.[1];
  const apiKey = /API key:\s+(sk-spw-\S+)/.exec(output)?.[1];
  if (!baseUrl || !apiKey) throw new Error(`could not read the base URL and key from:\n${output}`);
  return {
    baseUrl,
    apiKey,
    logDir,
    gpuSimUrl: (i) => `http://127.0.0.1:${8100 + options.portOffset + i}`,
    stop: async () => {
      await stopProcess(child);
      await dropDatabases(databasePrefix);
    },
  };
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

async function dropDatabases(prefix: string): Promise<void> {
  const client = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      // The system names its databases `<prefix>_<service>`. An exact prefix, not LIKE: `_` is a
      // LIKE wildcard, and pid 123's prefix would also match pid 1234's databases.
      'select datname from pg_database where starts_with(datname, $1)',
      [`${prefix}_`],
    );
    for (const { datname } of rows)
      await client.query(`drop database if exists "${datname}" with (force)`);
  } finally {
    await client.end();
  }
}

/** Sums a Prometheus counter (all label sets) from a /metrics text. */
export async function counter(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) {
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}
