import { fileURLToPath } from 'node:url';
import { type ChildProcessHandle, startChildProcess } from '@spillway/testing';

const gatewayDir = fileURLToPath(new URL('../..', import.meta.url));

export interface GatewayProcess {
  readonly baseUrl: string;
  readonly handle: ChildProcessHandle;
}

/** The built gateway (dist/main.js) as users start it, on an ephemeral port. */
export async function startGatewayProcess(
  env: Record<string, string>,
  name = 'gateway',
): Promise<GatewayProcess> {
  const handle = await startChildProcess({
    name,
    command: process.execPath,
    args: ['--import', '@spillway/telemetry/register', 'dist/main.js'],
    cwd: gatewayDir,
    env: { SPILLWAY_SERVICE: 'gateway', GATEWAY_PORT: '0', ...env },
    readyWhen: (line) => line.includes('gateway listening on'),
    timeoutMs: 30_000,
  });
  const line = handle.output().find((l) => l.includes('gateway listening on')) ?? '';
  const match = /gateway listening on (http:\/\/\S+)/.exec(line);
  if (!match?.[1]) throw new Error(`no address in: ${line}`);
  return { baseUrl: match[1], handle };
}

export { gatewayDir };
