import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  freePort,
  httpRequest,
  startChildProcess,
  waitFor,
  type ChildProcessHandle,
} from '@spillway/testing';
import { parsePrometheusText, sumOfFirst } from '../../src/adapters/engines/prometheus-text.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const gpuSimMain = `${root}services/gpu-sim/dist/main.js`;

export interface GpuSimFault {
  readonly mode: 'none' | 'die' | 'hang' | 'slow' | 'error' | 'malformed';
  readonly afterTokens?: number;
  readonly factor?: number;
  readonly status?: 500 | 503;
}

export interface GpuSimProcess {
  /** http://127.0.0.1:port, or unix:/path on a Unix domain socket: what ENGINE_URL takes. */
  readonly url: string;
  readonly process: ChildProcessHandle;
  setFault(fault: GpuSimFault): Promise<void>;
  /** Sum of a metric's series on /metrics. */
  metric(name: string): Promise<number | undefined>;
  stop(): Promise<void>;
}

/**
 * The real simulator as a child process (as `npm start` runs it), ready when /health says 200: on
 * a free TCP port, or with `socketPath` on a Unix domain socket (`--uds`, as vLLM's).
 */
export async function startGpuSimProcess(
  options: { timeScale: number; seed?: number; fault?: string; socketPath?: string } = {
    timeScale: 0.01,
  },
): Promise<GpuSimProcess> {
  ensureBuilt();
  const socketPath = options.socketPath;
  const port = socketPath === undefined ? await freePort() : 0;
  const url = socketPath === undefined ? `http://127.0.0.1:${port}` : `unix:${socketPath}`;
  const listenArgs = socketPath === undefined ? ['--port', String(port)] : ['--uds', socketPath];
  const handle = await startChildProcess({
    name: 'gpu-sim',
    command: process.execPath,
    args: [
      '--import',
      '@spillway/telemetry/register',
      gpuSimMain,
      ...listenArgs,
      '--time-scale',
      String(options.timeScale),
    ],
    cwd: `${root}services/gpu-sim`,
    env: {
      GPU_SIM_SEED: String(options.seed ?? 0),
      GPU_SIM_FAULT: options.fault ?? 'none',
      SPILLWAY_TRACE_EXPORTER: 'none',
      OTEL_SERVICE_NAME: 'gpu-sim',
    },
    readyWhen: (line) => line.includes('gpu-sim listening'),
    timeoutMs: 30_000,
  });
  const call = (path: string, body?: unknown) =>
    httpRequest(
      socketPath === undefined ? { host: '127.0.0.1', port } : { socketPath },
      path,
      body,
    );
  await waitFor(async () => (await call('/health').catch(() => undefined))?.status === 200, {
    description: `gpu-sim at ${url} healthy`,
    timeoutMs: 30_000,
  });
  return {
    url,
    process: handle,
    async setFault(fault) {
      const response = await call('/admin/faults', fault);
      if (response.status !== 200)
        throw new Error(`gpu-sim refused fault ${JSON.stringify(fault)}: ${response.text}`);
    },
    async metric(name) {
      return sumOfFirst(parsePrometheusText((await call('/metrics')).text), [name]);
    },
    async stop() {
      await handle.stop('SIGTERM', 2_000);
    },
  };
}

/** Child processes run from dist/: build gpu-sim (and what it needs) once if a checkout lacks it. */
function ensureBuilt(): void {
  if (existsSync(gpuSimMain)) return;
  execFileSync('npx', ['turbo', 'run', 'build', '--filter=@spillway/gpu-sim...'], {
    cwd: root,
    stdio: 'inherit',
  });
}
