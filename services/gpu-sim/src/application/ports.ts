/** Wall-clock time and timers, injected so the loop can be driven by a fake clock in unit tests. */
export interface SchedulerPort {
  /** Monotonic wall-clock milliseconds. */
  now(): number;
  /** Runs `callback` after `delayMs` wall milliseconds; returns a cancel function. */
  after(delayMs: number, callback: () => void): () => void;
}

/** Ends the process (fault injection "die"); injected so nothing else calls process.exit. */
export interface ProcessPort {
  exit(code: number): void;
}

export const SCHEDULER_PORT = Symbol('SchedulerPort');
export const PROCESS_PORT = Symbol('ProcessPort');
