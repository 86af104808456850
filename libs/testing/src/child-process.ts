import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { testChildEnvironment } from './leftover-processes.js';

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export type ReadyCheck = ((line: string) => boolean) | { readonly url: string };

export interface ChildProcessOptions {
  readonly command: string;
  readonly args?: readonly string[];
  /** Added to this process's environment; `undefined` removes a variable. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  /** A predicate over output lines (stdout and stderr), or a URL that must answer 2xx. */
  readonly readyWhen?: ReadyCheck;
  /** Bound on becoming ready. Default 30 s. */
  readonly timeoutMs?: number;
  /** For messages; default the command. */
  readonly name?: string;
}

export interface ChildProcessHandle {
  readonly pid: number;
  readonly name: string;
  /** Output lines so far (stdout and stderr interleaved, the last 2 000 kept). */
  output(): readonly string[];
  readonly exited: Promise<ChildExit>;
  /** Sends `signal` (default SIGTERM) and, if the process is still alive after `graceMs`, SIGKILL. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<ChildExit>;
  /** SIGKILL: a crash, as far as the child is concerned. */
  kill(): Promise<ChildExit>;
}

const KEPT_LINES = 2_000;
const QUOTED_LINES = 20;
const live = new Set<ChildProcess>();

// Children run in their own process group (so a `npm run` wrapper and what it starts die together);
// whatever a test forgot is killed when the test process exits. A test process killed outright
// cannot do that; the Jest global teardown finds those children by their environment instead.
process.once('exit', () => {
  for (const child of live) signalGroup(child, 'SIGKILL');
});

/** Starts a process and resolves once it is ready; a child that is not ready in time is killed. */
export async function startChildProcess(options: ChildProcessOptions): Promise<ChildProcessHandle> {
  const name = options.name ?? options.command;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const child = spawn(options.command, [...(options.args ?? [])], {
    cwd: options.cwd,
    env: { ...process.env, ...testChildEnvironment(), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  live.add(child);

  const lines: string[] = [];
  const lineListeners = new Set<(line: string) => void>();
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      if (lines.length > KEPT_LINES) lines.shift();
      for (const listener of lineListeners) listener(line);
    });
  }
  const exited = new Promise<ChildExit>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });
  const spawnFailed = new Promise<Error>((resolve) => child.once('error', resolve));

  const handle: ChildProcessHandle = {
    pid: child.pid ?? -1,
    name,
    output: () => [...lines],
    exited,
    stop: async (signal = 'SIGTERM', graceMs = 5_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      signalGroup(child, signal);
      const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    kill: () => handle.stop('SIGKILL', 0),
  };

  const failure = (reason: string): Error =>
    new Error(
      `${name} ${reason}; last output:\n${lines.slice(-QUOTED_LINES).join('\n') || '(none)'}`,
    );

  let stopPolling = (): void => undefined;
  const ready = new Promise<void>((resolve, reject) => {
    const check = options.readyWhen;
    if (!check) return resolve();
    if (typeof check === 'function') {
      if (lines.some(check)) return resolve();
      lineListeners.add((line) => check(line) && resolve());
    } else {
      stopPolling = pollUrl(check.url, resolve);
    }
    void exited.then((exit) =>
      reject(failure(`exited (code ${exit.code}, signal ${exit.signal}) before it was ready`)),
    );
    void spawnFailed.then((error) => reject(failure(`could not be started: ${error.message}`)));
  });

  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(failure(`was not ready within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([ready, timedOut]);
    return handle;
  } catch (error) {
    await handle.kill();
    throw error;
  } finally {
    clearTimeout(timer);
    stopPolling();
    lineListeners.clear();
  }
}

/** Stops every child this process started that is still running; for afterAll hooks. */
export async function stopAllChildProcesses(): Promise<void> {
  await Promise.all(
    [...live].map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          signalGroup(child, 'SIGKILL');
        }),
    ),
  );
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone (ESRCH) between the check and the kill.
  }
}

function pollUrl(url: string, onReady: () => void): () => void {
  let stopped = false;
  const poll = async (): Promise<void> => {
    while (!stopped) {
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
        await response.body?.cancel();
        if (response.ok) return onReady();
      } catch {
        // Not listening yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  void poll();
  return () => {
    stopped = true;
  };
}
