#!/usr/bin/env node
// The one test command (`npm test`): infrastructure up, static checks, build, every Jest suite,
// and one closing line `N passed, N failed[, N skipped]` totalled over all of it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const failedChecks = [];
const startedAt = Date.now();

function run(label, command, args, { allowFailure = false, env = {} } = {}) {
  const started = Date.now();
  process.stdout.write(`\n=== ${label}: ${[command, ...args].join(' ')}\n`);
  const result = spawnSync(command, args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const ok = result.status === 0;
  process.stdout.write(
    `=== ${label}: ${ok ? 'ok' : `FAILED (exit ${result.status})`} in ${seconds}s\n`,
  );
  if (!ok && !allowFailure) failedChecks.push(label);
  return ok;
}

run('infrastructure', 'bash', ['deploy/local/up.sh']);
run('build', 'npx', ['turbo', 'run', 'build', '--output-logs=errors-only']);
run('typecheck and lint', 'npx', [
  'turbo',
  'run',
  'typecheck',
  'lint',
  '--continue',
  '--output-logs=errors-only',
]);
run('proto lint', 'npx', ['buf', 'lint']);
run('proto breaking', 'node', ['scripts/buf-breaking.mjs']);
run('layer rules', 'npx', ['depcruise', '--config', '.dependency-cruiser.cjs', 'libs', 'services']);
run('format', 'npx', ['prettier', '--check', '--log-level', 'warn', '.']);

mkdir('.ci-results');
const report = `${root}.ci-results/jest.json`;
// Nest 12 is ESM-only: Jest loads ES modules through the VM modules API.
const jestEnv = { NODE_OPTIONS: '--experimental-vm-modules --no-warnings=ExperimentalWarning' };
run('tests', 'npx', ['jest', '--json', `--outputFile=${report}`], {
  allowFailure: true,
  env: jestEnv,
});

let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(report)) {
  const jest = JSON.parse(readFileSync(report, 'utf8'));
  passed = jest.numPassedTests;
  failed = jest.numFailedTests;
  skipped = jest.numPendingTests + jest.numTodoTests;
  // A suite that fails to load has no failing test of its own; count it so it cannot hide.
  failed += jest.testResults.filter(
    (r) => r.status === 'failed' && r.assertionResults.length === 0,
  ).length;
} else {
  failed += 1;
  failedChecks.push('tests (no Jest report)');
}
failed += failedChecks.length;
if (failedChecks.length > 0) process.stdout.write(`\nfailed checks: ${failedChecks.join(', ')}\n`);
const since = Number(process.env.SPILLWAY_CI_STARTED ?? 0) * 1000 || startedAt;
process.stdout.write(`\nfinished in ${((Date.now() - since) / 1000).toFixed(0)}s\n`);
process.stdout.write(
  `\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`,
);
process.exit(failed === 0 ? 0 : 1);

function mkdir(path) {
  mkdirSync(`${root}${path}`, { recursive: true });
}
