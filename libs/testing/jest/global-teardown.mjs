import { killLeftoverProcesses, TEST_RUN_VARIABLE } from './leftover-processes.mjs';

/**
 * Kills what this run's tests started and did not stop: children of a worker that Jest killed
 * (a test timeout, a crash) would otherwise hold ports, CPU and memory after the run. It says what
 * it killed, since a leftover means some suite did not clean up.
 */
export default function globalTeardown() {
  const runId = process.env[TEST_RUN_VARIABLE];
  if (!runId) return;
  const killed = killLeftoverProcesses(runId);
  if (killed.length === 0) return;
  process.stderr.write(
    `\nkilled ${killed.length} process(es) the tests left running:\n` +
      killed.map(({ pid, command }) => `  ${pid} ${command.slice(0, 160)}`).join('\n') +
      '\n',
  );
}
