import type { Clock } from '../clock.port.js';

/**
 * Shards that just failed a turn (connection refused, stream dropped, engine error) are left out of
 * every placement for a short while, so the turns right behind do not each pay for discovering the
 * same dead shard before the registry's failure detector marks it FAILED.
 */
export class SuspectShards {
  private readonly until = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  mark(shardId: string): void {
    if (this.ttlMs > 0) this.until.set(shardId, this.clock.nowMs() + this.ttlMs);
  }

  /** A shard that answers again (a completed stream) is trusted again at once. */
  clear(shardId: string): void {
    this.until.delete(shardId);
  }

  list(): string[] {
    if (this.until.size === 0) return [];
    const now = this.clock.nowMs();
    const out: string[] = [];
    for (const [shardId, until] of this.until) {
      if (until <= now) this.until.delete(shardId);
      else out.push(shardId);
    }
    return out;
  }
}
