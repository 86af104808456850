export interface FailureDetectorConfig {
  /** A monitored shard with no sign of life for longer than this is failed. */
  readonly failureAfterMs: number;
  /**
   * After the registry (re)starts, shards it knew from before get at least this long to reach it
   * again: their adapters were backing off while it was away, and failing them all for that would
   * be a self-inflicted outage. Shards heard from since the start get `failureAfterMs` as usual.
   */
  readonly restartGraceMs: number;
}

export interface Liveness {
  readonly nowMs: number;
  readonly lastHeartbeatAtMs: number;
  /** When the registry started watching. Silence before that was not observed, so it does not count. */
  readonly watchingSinceMs: number;
}

/** How long the shard has been silent, as far as this registry can tell. */
export function silenceMs(liveness: Liveness): number {
  return liveness.nowMs - Math.max(liveness.lastHeartbeatAtMs, liveness.watchingSinceMs);
}

/** The silence after which this shard is failed. */
export function allowedSilenceMs(liveness: Liveness, config: FailureDetectorConfig): number {
  const heardSinceStart = liveness.lastHeartbeatAtMs >= liveness.watchingSinceMs;
  return heardSinceStart
    ? config.failureAfterMs
    : Math.max(config.failureAfterMs, config.restartGraceMs);
}

/** The failure detector: a fixed timeout on the last sign of life. */
export function isOverdue(liveness: Liveness, config: FailureDetectorConfig): boolean {
  return silenceMs(liveness) > allowedSilenceMs(liveness, config);
}
