// Plain JavaScript: Jest loads its global setup and teardown outside the test transform.
import { readdirSync, readFileSync } from 'node:fs';

// The same names as src/leftover-processes.ts (its spec fails if they drift apart).
export const TEST_RUN_VARIABLE = 'SPILLWAY_TEST_RUN';
export const TEST_CHILD_VARIABLE = 'SPILLWAY_TEST_CHILD_OF';

/**
 * Processes still running that a test of `runId` started (`{ pid, command }[]`). A test's own
 * cleanup stops its children when the test process exits normally; a worker that Jest kills (a
 * timeout, a crash) cannot, and its children would outlive the run. Reads /proc; elsewhere it finds
 * nothing.
 *
 * @param {string} runId
 * @returns {{ pid: number, command: string }[]}
 */
export function findLeftoverProcesses(runId) {
  const marker = `${TEST_CHILD_VARIABLE}=${runId}`;
  let entries;
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const found = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(marker)) continue;
      const command = readFileSync(`/proc/${entry}/cmdline`, 'latin1').split('\0').join(' ');
      found.push({ pid: Number(entry), command: command.trim() });
    } catch {
      // Exited meanwhile, or not ours to read.
    }
  }
  return found;
}

/**
 * SIGKILLs every leftover process of `runId`; returns what it killed.
 *
 * @param {string} runId
 */
export function killLeftoverProcesses(runId) {
  const killed = [];
  for (const leftover of findLeftoverProcesses(runId)) {
    try {
      process.kill(leftover.pid, 'SIGKILL');
      killed.push(leftover);
    } catch {
      // Already gone.
    }
  }
  return killed;
}
