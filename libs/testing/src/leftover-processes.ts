/** Names one Jest run; set by its global setup (`jest/global-setup.mjs`), so every worker inherits it. */
export const TEST_RUN_VARIABLE = 'SPILLWAY_TEST_RUN';
/**
 * Set on every process `startChildProcess` starts, and so inherited by everything that process
 * starts in turn: it marks the process as one of this test run's, for `jest/global-teardown.mjs`.
 */
export const TEST_CHILD_VARIABLE = 'SPILLWAY_TEST_CHILD_OF';

/** The environment entry a child of the current test run carries, if this is a test run. */
export function testChildEnvironment(): Record<string, string> {
  const run = process.env[TEST_RUN_VARIABLE];
  return run ? { [TEST_CHILD_VARIABLE]: run } : {};
}
