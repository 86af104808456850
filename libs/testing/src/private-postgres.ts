import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';
import { testChildEnvironment } from './leftover-processes.js';

const run = promisify(execFile);

export interface PrivatePostgresOptions {
  /** Directory of `initdb` and `postgres`; default `$PG_BIN` or `/usr/lib/postgresql/15/bin`. */
  readonly binDir?: string;
  /** Default `16MB`: the machine is shared. */
  readonly sharedBuffers?: string;
  /** Bound on initdb and on each start. Default 60 s. */
  readonly timeoutMs?: number;
}

/**
 * - `fast`: what `pg_ctl stop -m fast` does (SIGINT): sessions are terminated, a checkpoint, exit.
 * - `immediate`: `-m immediate` (SIGQUIT), a crash as far as clients know; the next start recovers
 *   from WAL.
 */
export type PostgresStopMode = 'fast' | 'immediate';

export interface PrivatePostgres {
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust auth). */
  readonly url: string;
  readonly dataDir: string;
  readonly running: boolean;
  stop(mode?: PostgresStopMode): Promise<void>;
  /** Starts the stopped server again on the same port and data. */
  start(): Promise<void>;
  restart(mode?: PostgresStopMode): Promise<void>;
  /** Stops the server and deletes its directory. */
  cleanup(): Promise<void>;
  /** The server log's last lines, for failure messages. */
  log(): Promise<string>;
}

/**
 * A throw-away PostgreSQL server of its own (initdb into a temp dir, pg_ctl, a free port, TCP on
 * 127.0.0.1 only, trust auth) for tests that stop or restart the database, which the shared server
 * must never be. Durability is as configured normally except fsync (off: only the server process is ever killed
 * here, never the machine, so the OS page cache keeps what was committed).
 */
export async function startPrivatePostgres(
  options: PrivatePostgresOptions = {},
): Promise<PrivatePostgres> {
  const binDir = options.binDir ?? process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
  const timeoutMs = options.timeoutMs ?? 60_000;
  for (const binary of ['initdb', 'pg_ctl', 'postgres']) {
    if (!existsSync(join(binDir, binary)))
      throw new Error(`startPrivatePostgres: ${join(binDir, binary)} not found; set PG_BIN`);
  }
  const root = await mkdtemp(join(tmpdir(), 'spillway-private-pg-'));
  const dataDir = join(root, 'data');
  // PostgreSQL refuses to run as root; as root, run it as the `postgres` system user.
  const asUser = process.getuid?.() === 0 ? await postgresUser(root) : [];
  const command = (binary: string, args: readonly string[]): [string, string[]] =>
    asUser.length > 0
      ? [asUser[0]!, [...asUser.slice(1), join(binDir, binary), ...args]]
      : [join(binDir, binary), [...args]];

  try {
    const [initdb, initdbArgs] = command('initdb', [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--no-sync',
      '--no-instructions',
    ]);
    await run(initdb, initdbArgs, { timeout: timeoutMs, env: { ...process.env, LC_ALL: 'C' } });
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw new Error(`startPrivatePostgres: initdb failed: ${String(error)}`, { cause: error });
  }

  const port = await freePort();
  const logFile = join(root, 'postgres.log');
  const serverOptions = [
    `-c port=${port}`,
    '-c listen_addresses=127.0.0.1',
    "-c unix_socket_directories=''",
    `-c shared_buffers=${options.sharedBuffers ?? '16MB'}`,
    '-c max_connections=60',
    '-c fsync=off',
    '-c full_page_writes=off',
  ].join(' ');
  const pgCtl = async (args: readonly string[]): Promise<void> => {
    const [file, fileArgs] = command('pg_ctl', ['-D', dataDir, ...args]);
    try {
      await run(file, fileArgs, {
        timeout: timeoutMs + 5_000,
        // The server outlives pg_ctl; the marker lets the Jest teardown find it if a test cannot.
        env: { ...process.env, ...testChildEnvironment(), LC_ALL: 'C' },
      });
    } catch (error) {
      throw new Error(
        `private PostgreSQL on 127.0.0.1:${port}: pg_ctl ${args[0]} failed: ${String(error)}\n` +
          (await logTail(logFile)),
        { cause: error },
      );
    }
  };
  let postmaster: number | undefined;
  const seconds = String(Math.ceil(timeoutMs / 1000));
  const start = async (): Promise<void> => {
    if (postmaster !== undefined) return;
    await pgCtl(['start', '-w', '-t', seconds, '-l', logFile, '-o', serverOptions]);
    postmaster = await postmasterPid(dataDir);
    if (postmaster !== undefined) orphans.add(postmaster);
  };
  const stop = async (mode: PostgresStopMode = 'fast'): Promise<void> => {
    if (postmaster === undefined) return;
    await pgCtl(['stop', '-w', '-t', seconds, '-m', mode]);
    orphans.delete(postmaster);
    postmaster = undefined;
  };
  try {
    await start();
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw error;
  }
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    dataDir,
    get running() {
      return postmaster !== undefined;
    },
    stop,
    start,
    restart: async (mode) => {
      await stop(mode);
      await start();
    },
    cleanup: async () => {
      try {
        await stop('fast');
      } catch {
        // A server that will not stop cleanly is not left behind.
        if (postmaster !== undefined) process.kill(postmaster, 'SIGQUIT');
      }
      await rm(root, { recursive: true, force: true });
    },
    log: () => logTail(logFile),
  };
}

// pg_ctl daemonises the postmaster; one this process started must not outlive it (a crashed or
// killed test run), so whatever is still running at exit gets an immediate shutdown.
const orphans = new Set<number>();
process.once('exit', () => {
  for (const pid of orphans) {
    try {
      process.kill(pid, 'SIGQUIT');
    } catch {
      // Already gone.
    }
  }
});

async function postmasterPid(dataDir: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function logTail(logFile: string, lines = 30): Promise<string> {
  try {
    return (await readFile(logFile, 'utf8')).split('\n').slice(-lines).join('\n');
  } catch {
    return '(no server log)';
  }
}

/** `setpriv` arguments that run a command as `postgres`, after giving it the directory. */
async function postgresUser(root: string): Promise<string[]> {
  const id = async (flag: string): Promise<number> =>
    Number((await run('id', [flag, 'postgres'])).stdout.trim());
  let uid: number;
  let gid: number;
  try {
    [uid, gid] = await Promise.all([id('-u'), id('-g')]);
  } catch (error) {
    throw new Error('startPrivatePostgres: running as root needs a `postgres` system user', {
      cause: error,
    });
  }
  await chown(root, uid, gid);
  return ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--'];
}
