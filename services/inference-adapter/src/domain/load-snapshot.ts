import type { common } from '@spillway/contracts';

/** A Prometheus histogram as scraped: cumulative bucket counts by upper bound, ascending. */
export interface CumulativeHistogram {
  readonly buckets: readonly { readonly le: number; readonly count: number }[];
  readonly count: number;
  readonly sum: number;
}

/**
 * What one scrape of an engine's metrics says, already translated out of the engine's dialect.
 * Counters and histograms are cumulative since the engine started; a field is absent when the
 * engine does not report it.
 */
export interface EngineLoadSample {
  readonly running?: number;
  readonly waiting?: number;
  /** Fraction of KV-cache blocks in use, 0..1. */
  readonly kvCacheUsage?: number;
  readonly prefixCacheQueries?: number;
  readonly prefixCacheHits?: number;
  /** For engines that publish only a hit-rate gauge (SGLang). */
  readonly prefixCacheHitRate?: number;
  readonly ttftSeconds?: CumulativeHistogram;
  readonly itlSeconds?: CumulativeHistogram;
  /** Time requests waited in the engine's queue before being scheduled (part of TTFT). */
  readonly queueSeconds?: CumulativeHistogram;
}

/** What the adapter itself knows, independent of the engine. */
export interface LocalLoad {
  readonly inFlight: number;
  readonly maxInFlight: number;
  readonly recentPrefixBlocks: readonly number[];
}

/** The last sample is kept so the next snapshot can report figures over the window between. */
export interface LoadWindow {
  readonly sample: EngineLoadSample | undefined;
  readonly snapshot: common.ShardLoad;
}

/**
 * Folds a new engine sample and the adapter's own counts into the shard's load snapshot.
 * Latency p50s and the prefix hit ratio are computed over the window since the previous sample;
 * a window without observations keeps the previous figure rather than reporting a misleading 0.
 * Without an engine sample (scrape failed, or the engine has no metrics) the adapter's in-flight
 * streams stand in for the running count.
 */
export function nextLoadWindow(
  previous: LoadWindow | undefined,
  sample: EngineLoadSample | undefined,
  local: LocalLoad,
  observedAtMs: number,
): LoadWindow {
  const before = previous?.sample;
  const last = previous?.snapshot;
  const ttft = windowP50(before?.ttftSeconds, sample?.ttftSeconds);
  const itl = windowP50(before?.itlSeconds, sample?.itlSeconds);
  const queue = windowP50(before?.queueSeconds, sample?.queueSeconds);
  const snapshot: common.ShardLoad = {
    runningRequests: wholeCount(sample?.running ?? local.inFlight),
    waitingRequests: wholeCount(sample?.waiting ?? 0),
    kvCacheUsage: clampUnit(sample?.kvCacheUsage ?? 0),
    inFlightStreams: local.inFlight,
    maxInFlightStreams: local.maxInFlight,
    ttftMsP50: ttft === undefined ? (last?.ttftMsP50 ?? 0) : ttft * 1_000,
    itlMsP50: itl === undefined ? (last?.itlMsP50 ?? 0) : itl * 1_000,
    queueTimeMsP50: queue === undefined ? (last?.queueTimeMsP50 ?? 0) : queue * 1_000,
    prefixCacheHitRatio: prefixHitRatio(before, sample) ?? last?.prefixCacheHitRatio ?? 0,
    observedAtMs,
    recentPrefixBlocks: [...local.recentPrefixBlocks],
  };
  return { sample: sample ?? before, snapshot };
}

/** Replaces the adapter-owned fields of a snapshot with live values (for GetLoad between scrapes). */
export function withLocalLoad(
  snapshot: common.ShardLoad,
  local: LocalLoad,
  observedAtMs: number,
): common.ShardLoad {
  return {
    ...snapshot,
    inFlightStreams: local.inFlight,
    maxInFlightStreams: local.maxInFlight,
    recentPrefixBlocks: [...local.recentPrefixBlocks],
    observedAtMs,
  };
}

function prefixHitRatio(
  before: EngineLoadSample | undefined,
  now: EngineLoadSample | undefined,
): number | undefined {
  if (now?.prefixCacheQueries !== undefined && now.prefixCacheHits !== undefined) {
    const reset =
      before?.prefixCacheQueries === undefined ||
      now.prefixCacheQueries < before.prefixCacheQueries;
    const queries = reset
      ? now.prefixCacheQueries
      : now.prefixCacheQueries - (before.prefixCacheQueries ?? 0);
    const hits = reset ? now.prefixCacheHits : now.prefixCacheHits - (before?.prefixCacheHits ?? 0);
    if (queries > 0) return clampUnit(hits / queries);
  }
  if (now?.prefixCacheHitRate !== undefined) return clampUnit(now.prefixCacheHitRate);
  return undefined;
}

/**
 * The median of the observations made between two cumulative histograms, interpolated linearly
 * inside its bucket (as Prometheus' histogram_quantile does). Undefined when nothing was observed.
 */
export function windowP50(
  before: CumulativeHistogram | undefined,
  now: CumulativeHistogram | undefined,
): number | undefined {
  if (!now) return undefined;
  const reset = !before || now.count < before.count;
  const window = reset ? now : subtract(now, before);
  return quantile(window, 0.5);
}

export function quantile(histogram: CumulativeHistogram, q: number): number | undefined {
  const buckets = histogram.buckets;
  const total = buckets.length > 0 ? (buckets[buckets.length - 1]?.count ?? 0) : histogram.count;
  if (total <= 0) return undefined;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const bucket of buckets) {
    if (bucket.count >= rank) {
      // The open-ended bucket has no width to interpolate in: its lower bound is the best guess.
      if (!Number.isFinite(bucket.le)) return lowerBound;
      const inBucket = bucket.count - lowerCount;
      if (inBucket <= 0) return bucket.le;
      return lowerBound + (bucket.le - lowerBound) * ((rank - lowerCount) / inBucket);
    }
    lowerBound = bucket.le;
    lowerCount = bucket.count;
  }
  return lowerBound;
}

function subtract(now: CumulativeHistogram, before: CumulativeHistogram): CumulativeHistogram {
  const earlier = new Map(before.buckets.map((b) => [b.le, b.count]));
  return {
    buckets: now.buckets.map((b) => ({
      le: b.le,
      count: Math.max(0, b.count - (earlier.get(b.le) ?? 0)),
    })),
    count: now.count - before.count,
    sum: now.sum - before.sum,
  };
}

function clampUnit(value: number): number {
  if (!Number.isFinite(value)) return 0;
  return Math.min(1, Math.max(0, value));
}

function wholeCount(value: number): number {
  return Number.isFinite(value) && value > 0 ? Math.round(value) : 0;
}
