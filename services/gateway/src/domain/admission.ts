import { PRIORITY_RANK, type Priority } from './tenant.js';

/**
 * Admission control at the edge. Two signals decide whether a turn may go to the router:
 *  - local concurrency: each priority may fill only its share of the gateway's turn slots, so the
 *    top of the range is always kept free for higher tiers;
 *  - fleet saturation: when the router sheds a turn of some priority, turns of that priority and
 *    below are shed here until the router's retry hint has passed, while higher tiers still go.
 * Retry-After comes from the observed drain rate (turns finishing per second).
 */

/** Fraction of the gateway's turn slots each priority may occupy. */
export const PRIORITY_SHARE: Readonly<Record<Priority, number>> = {
  batch: 0.5,
  low: 0.6,
  standard: 0.8,
  high: 0.95,
  critical: 1,
};

export interface AdmissionState {
  readonly inFlight: number;
  /** Set after the router shed a turn: ranks at or below `rank` are shed until `untilMs`. */
  readonly shedFloor: { readonly rank: number; readonly untilMs: number } | undefined;
  /** Completion times (ms) inside the drain-rate window, oldest first. */
  readonly completions: readonly number[];
}

export interface AdmissionOptions {
  readonly maxConcurrentTurns: number;
  readonly drainWindowMs: number;
  /** Retry hint when nothing has finished recently, so the drain rate is unknown. */
  readonly fallbackRetryAfterMs: number;
  readonly maxRetryAfterMs: number;
}

export type AdmissionDecision =
  | { readonly admitted: true }
  | {
      readonly admitted: false;
      readonly reason: 'local_concurrency' | 'fleet_saturated';
      readonly retryAfterMs: number;
    };

export const initialAdmissionState: AdmissionState = {
  inFlight: 0,
  shedFloor: undefined,
  completions: [],
};

export function slotLimit(priority: Priority, maxConcurrentTurns: number): number {
  return Math.max(1, Math.floor(maxConcurrentTurns * PRIORITY_SHARE[priority]));
}

/**
 * Completions kept for the drain rate. When more finished inside the window, the rate is measured
 * over the span the most recent ones cover: keeping them all meant copying thousands of timestamps
 * on every released turn (15 000 at 1 500 turns/s), for a Retry-After hint.
 */
export const MAX_TRACKED_COMPLETIONS = 128;

export function drainRatePerSecond(
  completions: readonly number[],
  nowMs: number,
  windowMs: number,
): number {
  const recent = completions.filter((at) => at > nowMs - windowMs);
  if (recent.length < MAX_TRACKED_COMPLETIONS) return recent.length / (windowMs / 1000);
  const spanMs = Math.max(1, nowMs - (recent[0] ?? nowMs - windowMs));
  return recent.length / (spanMs / 1000);
}

export function decideAdmission(
  state: AdmissionState,
  priority: Priority,
  nowMs: number,
  options: AdmissionOptions,
): AdmissionDecision {
  const rank = PRIORITY_RANK[priority];
  const floor = state.shedFloor;
  if (floor && floor.untilMs > nowMs && rank <= floor.rank) {
    return {
      admitted: false,
      reason: 'fleet_saturated',
      retryAfterMs: clamp(floor.untilMs - nowMs, options),
    };
  }
  const limit = slotLimit(priority, options.maxConcurrentTurns);
  if (state.inFlight < limit) return { admitted: true };
  // Slots this priority must see freed before one is its own again.
  const excess = state.inFlight - limit + 1;
  const rate = drainRatePerSecond(state.completions, nowMs, options.drainWindowMs);
  const retryAfterMs = rate > 0 ? (excess / rate) * 1000 : options.fallbackRetryAfterMs;
  return {
    admitted: false,
    reason: 'local_concurrency',
    retryAfterMs: clamp(retryAfterMs, options),
  };
}

export function admitted(state: AdmissionState): AdmissionState {
  return { ...state, inFlight: state.inFlight + 1 };
}

export function released(
  state: AdmissionState,
  nowMs: number,
  options: AdmissionOptions,
  completed: boolean,
): AdmissionState {
  return {
    ...state,
    inFlight: Math.max(0, state.inFlight - 1),
    completions: recentCompletions(
      state.completions,
      nowMs - options.drainWindowMs,
      completed ? nowMs : undefined,
    ),
  };
}

/**
 * The completions to keep: those after `horizon`, plus `added`, at most MAX_TRACKED_COMPLETIONS.
 * Runs on every released turn, so it copies the list once instead of filtering it: completions
 * are kept in the order they happened, so the expired ones are at the front. (A wall clock that
 * steps back can leave an expired one behind a newer one; drainRatePerSecond skips it.)
 */
function recentCompletions(
  completions: readonly number[],
  horizon: number,
  added: number | undefined,
): readonly number[] {
  let start = 0;
  while (start < completions.length && (completions[start] ?? horizon) <= horizon) start++;
  const extra = added === undefined ? 0 : 1;
  start = Math.max(start, completions.length + extra - MAX_TRACKED_COMPLETIONS);
  if (added === undefined) return start === 0 ? completions : completions.slice(start);
  const kept = new Array<number>(completions.length - start + 1);
  for (let i = start; i < completions.length; i++) kept[i - start] = completions[i] ?? added;
  kept[kept.length - 1] = added;
  return kept;
}

/** The router shed a turn of `priority` and said when to come back. */
export function fleetSaturated(
  state: AdmissionState,
  priority: Priority,
  retryAfterMs: number,
  nowMs: number,
): AdmissionState {
  const rank = PRIORITY_RANK[priority];
  const current = state.shedFloor && state.shedFloor.untilMs > nowMs ? state.shedFloor : undefined;
  const untilMs = nowMs + Math.max(0, retryAfterMs);
  return {
    ...state,
    shedFloor: {
      rank: Math.max(rank, current?.rank ?? 0),
      untilMs: Math.max(untilMs, current?.untilMs ?? 0),
    },
  };
}

function clamp(ms: number, options: AdmissionOptions): number {
  return Math.min(options.maxRetryAfterMs, Math.max(1000, Math.ceil(ms)));
}
