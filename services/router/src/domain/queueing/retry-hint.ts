/**
 * Retry hints from a shard's drain rate (turns it starts per second when saturated). A hint says
 * when the turns that stood in the way will have started: honest, so a client that waits that long
 * is likely to get in, rather than a constant that invites a stampede.
 */
export interface RetryHint {
  readonly retryAfterMs: number;
  /** For HTTP Retry-After: whole seconds, at least 1. */
  readonly retryAfterSeconds: number;
}

export function retryHint(ms: number): RetryHint {
  const retryAfterMs = Math.max(1, Math.ceil(Number.isFinite(ms) ? ms : 60_000));
  return { retryAfterMs, retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1_000)) };
}

/** Time for `turns` turns to start at `drainRatePerSecond`. */
export function drainMs(turns: number, drainRatePerSecond: number): number {
  return (Math.max(0, turns) * 1_000) / drainRatePerSecond;
}

/**
 * A turn with `ahead` turns before it misses its deadline: retry once enough of them have started
 * that a fresh turn with the same budget would make it.
 */
export function deadlineRetryMs(
  ahead: number,
  budgetMs: number,
  drainRatePerSecond: number,
): number {
  const startableInBudget = (Math.max(0, budgetMs) * drainRatePerSecond) / 1_000;
  return Math.max(
    drainMs(1, drainRatePerSecond),
    drainMs(ahead + 1 - startableInBudget, drainRatePerSecond),
  );
}
