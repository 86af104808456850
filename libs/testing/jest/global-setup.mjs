import { randomUUID } from 'node:crypto';
import { TEST_RUN_VARIABLE } from './leftover-processes.mjs';

/** Names this Jest run, so its global teardown can find the processes its tests left running. */
export default function globalSetup() {
  process.env[TEST_RUN_VARIABLE] ??= randomUUID();
}
