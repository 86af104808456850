/** Why an attempt was cut from the router's side rather than by the shard or the caller. */
export type AttemptCutReason = 'shard-failed' | 'stalled';

export class AttemptCut extends Error {
  constructor(
    readonly shardId: string,
    readonly reason: AttemptCutReason,
  ) {
    super(
      reason === 'stalled'
        ? `shard ${shardId} sent nothing for too long`
        : `shard ${shardId} failed (the registry says so)`,
    );
    this.name = 'AttemptCut';
  }
}

export interface OpenAttempt {
  readonly signal: AbortSignal;
  cut(reason: AttemptCutReason): void;
  close(): void;
}

/**
 * The Generate calls this router has open, per shard. When the directory says a shard FAILED, its
 * calls are cut at once and their turns fail over, rather than waiting for a dead TCP peer to time
 * out (a hung engine holds its connections open).
 */
export class OpenAttempts {
  private readonly byShard = new Map<string, Set<AbortController>>();

  open(shardId: string): OpenAttempt {
    const controller = new AbortController();
    let set = this.byShard.get(shardId);
    if (set === undefined) {
      set = new Set();
      this.byShard.set(shardId, set);
    }
    set.add(controller);
    return {
      signal: controller.signal,
      cut: (reason) => controller.abort(new AttemptCut(shardId, reason)),
      close: () => {
        const current = this.byShard.get(shardId);
        current?.delete(controller);
        if (current?.size === 0) this.byShard.delete(shardId);
      },
    };
  }

  /** Cuts every open call to the shard; returns how many. */
  cutShard(shardId: string, reason: AttemptCutReason): number {
    const set = this.byShard.get(shardId);
    if (set === undefined) return 0;
    for (const controller of set) controller.abort(new AttemptCut(shardId, reason));
    return set.size;
  }

  count(shardId: string): number {
    return this.byShard.get(shardId)?.size ?? 0;
  }
}
