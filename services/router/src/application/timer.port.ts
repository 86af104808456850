/** Timers are a port, like the clock: unit tests fire them by hand. */
export interface Timer {
  /** Calls `fn` once after `ms`; the returned function cancels it. */
  schedule(ms: number, fn: () => void): () => void;
}
