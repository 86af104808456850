import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort, startChildProcess, type ChildProcessHandle } from '@spillway/testing';
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
  readonly url: string;
  readonly process: ChildProcessHandle;
  setFault(fault: GpuSimFault): Promise<void>;
  /** Sum of a metric's series on /metrics. */
  metric(name: string): Promise<number | undefined>;
  stop(): Promise<void>;
}

/** The real simulator as a child process (as `npm start` runs it), ready when /health says 200. */
export async function startGpuSimProcess(
  options: { timeScale: number; seed?: number; fault?: string } = { timeScale: 0.01 },
): Promise<GpuSimProcess> {
  ensureBuilt();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const handle = await startChildProcess({
    name: 'gpu-sim',
    command: process.execPath,
    args: [
      '--import',
      '@spillway/telemetry/register',
      gpuSimMain,
      '--port',
      String(port),
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
    readyWhen: { url: `${url}/health` },
    timeoutMs: 30_000,
  });
  return {
    url,
    process: handle,
    async setFault(fault) {
      const response = await fetch(`${url}/admin/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(fault),
      });
      if (!response.ok)
        throw new Error(`gpu-sim refused fault ${JSON.stringify(fault)}: ${await response.text()}`);
      await response.arrayBuffer().catch(() => undefined);
    },
    async metric(name) {
      const response = await fetch(`${url}/metrics`);
      return sumOfFirst(parsePrometheusText(await response.text()), [name]);
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
