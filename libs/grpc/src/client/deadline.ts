export interface DeadlineCallOptions {
  /** An absolute Date, or milliseconds from now. Overrides the client's default for this call. */
  readonly deadline?: Date | number;
}

/** Whole milliseconds left until `deadline`, never negative. */
export function budgetMsOf(deadline: Date | number): number {
  return Math.max(
    0,
    Math.floor(typeof deadline === 'number' ? deadline : deadline.getTime() - Date.now()),
  );
}

/** The wire format allows at most 8 digits, so long budgets move to a coarser unit. */
export function grpcTimeout(ms: number): string {
  if (ms < 100_000_000) return `${ms}m`;
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 100_000_000) return `${seconds}S`;
  return `${Math.min(99_999_999, Math.ceil(seconds / 3600))}H`;
}
