/**
 * The next registry-wide revision. Revisions must keep growing across restarts, yet heartbeats
 * (which change load) are not persisted, so the last revision handed out before a crash may be
 * unknown. Flooring the counter at the wall clock in microseconds (a hybrid logical clock) keeps
 * it ahead of anything handed out earlier, while `previous + 1` keeps it strictly increasing when
 * changes come faster than the clock ticks or the clock steps back. Stays below 2^53 until 2255.
 */
export function nextRevision(previous: number, nowMs: number): number {
  return Math.max(previous + 1, Math.floor(nowMs) * 1000);
}
