import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  findLeftoverProcesses,
  killLeftoverProcesses,
  TEST_CHILD_VARIABLE as TEARDOWN_CHILD_VARIABLE,
  TEST_RUN_VARIABLE as TEARDOWN_RUN_VARIABLE,
} from '../jest/leftover-processes.mjs';
import {
  TEST_CHILD_VARIABLE,
  TEST_RUN_VARIABLE,
  testChildEnvironment,
} from './leftover-processes.js';

// Real processes: a marked `sleep` stands for a service a killed Jest worker left running.

function startSleeper(env: Record<string, string>): {
  child: ChildProcess;
  exited: Promise<unknown>;
} {
  const child = spawn('sleep', ['30'], { env: { ...process.env, ...env }, stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  return { child, exited };
}

describe('leftover test processes', () => {
  const started: ChildProcess[] = [];
  afterEach(() => {
    for (const child of started.splice(0)) child.kill('SIGKILL');
  });

  it('finds and kills only the processes marked with this run', async () => {
    const runId = randomUUID();
    const ours = startSleeper({ [TEST_CHILD_VARIABLE]: runId });
    const anotherRun = startSleeper({ [TEST_CHILD_VARIABLE]: randomUUID() });
    const unmarked = startSleeper({});
    started.push(ours.child, anotherRun.child, unmarked.child);

    expect(findLeftoverProcesses(runId).map((p) => p.pid)).toEqual([ours.child.pid]);
    expect(findLeftoverProcesses(runId)[0]?.command).toBe('sleep 30');

    const killed = killLeftoverProcesses(runId);
    expect(killed.map((p) => p.pid)).toEqual([ours.child.pid]);
    await expect(ours.exited).resolves.toBe('SIGKILL');
    expect(anotherRun.child.exitCode).toBeNull();
    expect(anotherRun.child.signalCode).toBeNull();
    expect(unmarked.child.signalCode).toBeNull();
  });

  it('marks children with the variable the teardown looks for', () => {
    expect(TEST_CHILD_VARIABLE).toBe(TEARDOWN_CHILD_VARIABLE);
    expect(TEST_RUN_VARIABLE).toBe(TEARDOWN_RUN_VARIABLE);
    // This very run was named by the global setup.
    const run = process.env[TEST_RUN_VARIABLE];
    expect(run).toEqual(expect.any(String));
    expect(testChildEnvironment()).toEqual({ [TEST_CHILD_VARIABLE]: run });
  });

  it('finds nothing for a run that left nothing behind', () => {
    expect(findLeftoverProcesses(randomUUID())).toEqual([]);
    expect(killLeftoverProcesses(randomUUID())).toEqual([]);
  });
});
