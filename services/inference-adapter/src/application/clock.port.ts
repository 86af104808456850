export const CLOCK_PORT = Symbol('ClockPort');

export interface ClockPort {
  nowMs(): number;
  /** Resolves after `ms`, or at once (without throwing) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}
