/**
 * How long replies actually are, learned from the turns this router finished: the latency model's
 * "typical reply length" (how long a turn keeps its slot after its first token). A fixed guess
 * that is far off makes every prediction on a busy shard wrong by the same factor: with 256
 * expected tokens and 16-token replies the router predicted multi-second waits on shards that
 * answered in a few hundred milliseconds, and spilled conversations off the shards holding their
 * prefix for nothing.
 *
 * A mean that starts at the configured prior, counted as `priorTurns` replies so that the first few
 * turns barely move it, and becomes an exponentially weighted mean (weight `weight`) once enough
 * replies are in, so it follows a workload that changes. Pure: the application feeds it finished
 * turns.
 */
export interface ReplyLengthEstimate {
  /** Expected reply length of the next turn, tokens (at least 1). */
  tokens(): number;
}

export class ReplyLengthTracker implements ReplyLengthEstimate {
  private mean: number;
  private counted: number;

  /**
   * @param prior the estimate before any reply is seen
   * @param weight how much one reply moves the estimate in the long run, (0, 1]: 1/64 follows a
   *   change in the workload within a few hundred turns and is not thrown by one long reply
   * @param priorTurns how many replies the prior is worth
   */
  constructor(
    prior: number,
    private readonly weight = 1 / 64,
    priorTurns = 16,
  ) {
    if (!(prior >= 1)) throw new RangeError(`prior reply length must be >= 1, got ${prior}`);
    if (!(weight > 0 && weight <= 1))
      throw new RangeError(`weight must be in (0, 1], got ${weight}`);
    if (!(priorTurns >= 1)) throw new RangeError(`priorTurns must be >= 1, got ${priorTurns}`);
    this.mean = prior;
    this.counted = priorTurns;
  }

  /** One finished turn's reply length (completion tokens). */
  observe(completionTokens: number): void {
    if (!Number.isFinite(completionTokens) || completionTokens < 0) return;
    this.counted++;
    this.mean += (completionTokens - this.mean) * Math.max(this.weight, 1 / this.counted);
  }

  tokens(): number {
    return Math.max(1, this.mean);
  }
}
