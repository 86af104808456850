import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The services a test can start as a child process. */
export type SpillwayService =
  'shard-metadata' | 'conversation-state' | 'gpu-sim' | 'inference-adapter' | 'router' | 'gateway';

/** The repository's root directory (with a trailing slash): libs/testing/{src,dist}/ is 3 below. */
export const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * How to start a service from its built dist/ the way operators do (tracing registered before the
 * service loads): the command, arguments and working directory for startChildProcess. Throws,
 * naming the file, when the service has not been built.
 */
export function serviceCommand(
  service: SpillwayService,
  args: readonly string[] = [],
): { command: string; args: string[]; cwd: string } {
  const main = `${repositoryRoot}services/${service}/dist/main.js`;
  if (!existsSync(main)) throw new Error(`build first: npx turbo run build (missing ${main})`);
  return {
    command: process.execPath,
    args: ['--import', '@spillway/telemetry/register', main, ...args],
    cwd: `${repositoryRoot}services/${service}`,
  };
}
