/**
 * What a quota check decided, in the terms the OpenAI rate-limit headers use: per bucket, its
 * capacity, what is left, and how long until it is full again.
 */

export interface BucketSnapshot {
  readonly limit: number;
  readonly remaining: number;
  /** Milliseconds until the bucket is full again. */
  readonly resetMs: number;
}

export type QuotaDecision =
  | { readonly allowed: true; readonly requests: BucketSnapshot; readonly tokens: BucketSnapshot }
  | {
      readonly allowed: false;
      readonly requests: BucketSnapshot;
      readonly tokens: BucketSnapshot;
      /** The bucket that refused; when both would, the one that refills last. */
      readonly limitedBy: 'requests' | 'tokens';
      /** Milliseconds until both buckets hold enough for this request. */
      readonly retryAfterMs: number;
    };

/** Retry-After is whole seconds; rounding up means a client that waits exactly that long succeeds. */
export function retryAfterSeconds(retryAfterMs: number): number {
  return Math.max(1, Math.ceil(retryAfterMs / 1000));
}

/**
 * Durations as OpenAI writes them in `x-ratelimit-reset-*`: `20ms`, `1s`, `6m0s`, `1h2m3.5s`
 * (Go's time.Duration format).
 */
export function formatResetDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms));
  if (total < 1000) return `${total}ms`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const seconds = (total % 60_000) / 1000;
  const secondsText = `${Number.isInteger(seconds) ? seconds : seconds.toFixed(3).replace(/0+$/, '')}s`;
  if (hours > 0) return `${hours}h${minutes}m${secondsText}`;
  if (minutes > 0) return `${minutes}m${secondsText}`;
  return secondsText;
}
