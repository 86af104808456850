/**
 * Local admission of one shard: a bounded number of in-flight streams, and a drain switch.
 * A stream beyond the bound is refused at once with a retry hint; nothing queues here, because the
 * router owns the deadline-aware queues and can spill elsewhere only if it hears "no" quickly.
 */
export interface AdmissionState {
  readonly inFlight: number;
  readonly maxInFlight: number;
  readonly draining: boolean;
}

export type AdmissionDecision =
  | { readonly kind: 'admitted'; readonly state: AdmissionState }
  | {
      readonly kind: 'refused';
      readonly reason: 'overloaded' | 'draining';
      readonly retryAfterMs: number;
      readonly state: AdmissionState;
    };

/** Latency figures the retry hint is estimated from (0 when unknown). */
export interface RecentLatency {
  readonly ttftMsP50: number;
  readonly itlMsP50: number;
}

export const initialAdmission = (maxInFlight: number): AdmissionState => ({
  inFlight: 0,
  maxInFlight,
  draining: false,
});

export function decideAdmission(state: AdmissionState, latency: RecentLatency): AdmissionDecision {
  if (state.draining) {
    // A draining shard will not take turns again; the hint only spaces out a confused caller.
    return { kind: 'refused', reason: 'draining', retryAfterMs: 1_000, state };
  }
  if (state.inFlight >= state.maxInFlight) {
    return { kind: 'refused', reason: 'overloaded', retryAfterMs: retryHintMs(latency), state };
  }
  return { kind: 'admitted', state: { ...state, inFlight: state.inFlight + 1 } };
}

export function releaseStream(state: AdmissionState): AdmissionState {
  return { ...state, inFlight: Math.max(0, state.inFlight - 1) };
}

export function startDrain(state: AdmissionState): AdmissionState {
  return { ...state, draining: true };
}

/**
 * How long until a slot is likely free: the shortest in-flight turn is typically past its first
 * token, so about one TTFT plus a short burst of tokens. Bounded so a cold shard (no figures yet)
 * or a pathological one never tells a caller to wait long or to hammer it.
 */
export function retryHintMs(latency: RecentLatency): number {
  const estimate = latency.ttftMsP50 + latency.itlMsP50 * 32;
  if (!Number.isFinite(estimate) || estimate <= 0) return 250;
  return Math.round(Math.min(2_000, Math.max(50, estimate)));
}
