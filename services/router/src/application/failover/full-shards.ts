/**
 * The shards that refused one turn for want of a free stream slot (`SHARD.OVERLOADED`), each until
 * the retry hint it gave. A full shard has not failed: it is left out of the turn's placements only
 * until its hint passes, then tried again like any other. Without this, a failed-over turn whose
 * only remaining shard was full for a moment gave up with text already on the caller's screen.
 */
export class FullShards {
  private readonly until = new Map<string, number>();

  refused(shardId: string, nowMs: number, retryAfterMs: number): void {
    this.until.set(shardId, nowMs + retryAfterMs);
  }

  /** Whether any shard has refused the turn for being full. */
  get any(): boolean {
    return this.until.size > 0;
  }

  /** Whether this shard has refused the turn for being full (its hint passed or not). */
  hasRefused(shardId: string): boolean {
    return this.until.has(shardId);
  }

  /** The shards whose retry hint has not passed at `nowMs`. */
  refusingAt(nowMs: number): string[] {
    const out: string[] = [];
    for (const [shardId, until] of this.until) if (until > nowMs) out.push(shardId);
    return out;
  }

  /** Milliseconds from `nowMs` until the first of them may be tried again (0 if one may now). */
  nextRetryInMs(nowMs: number): number {
    let soonest = Number.POSITIVE_INFINITY;
    for (const until of this.until.values()) soonest = Math.min(soonest, until);
    return Number.isFinite(soonest) ? Math.max(0, soonest - nowMs) : 0;
  }

  ids(): string[] {
    return [...this.until.keys()];
  }
}
