import {
  type AdmissionOptions,
  admitted,
  decideAdmission,
  drainRatePerSecond,
  fleetSaturated,
  initialAdmissionState,
  MAX_TRACKED_COMPLETIONS,
  released,
  slotLimit,
} from './admission.js';

const options: AdmissionOptions = {
  maxConcurrentTurns: 10,
  drainWindowMs: 10_000,
  fallbackRetryAfterMs: 5_000,
  maxRetryAfterMs: 60_000,
};
const withInFlight = (n: number, completions: number[] = []) => ({
  ...initialAdmissionState,
  inFlight: n,
  completions,
});

describe('admission', () => {
  it('gives each priority its share of the slots, keeping the top for higher tiers', () => {
    expect(
      ['batch', 'low', 'standard', 'high', 'critical'].map((p) => slotLimit(p as never, 10)),
    ).toEqual([5, 6, 8, 9, 10]);
    expect(slotLimit('batch', 1)).toBe(1);
  });

  it('admits below the tier limit and refuses at it, lower tiers first', () => {
    const state = withInFlight(6);
    expect(decideAdmission(state, 'low', 0, options)).toMatchObject({
      admitted: false,
      reason: 'local_concurrency',
    });
    expect(decideAdmission(state, 'standard', 0, options)).toEqual({ admitted: true });
    expect(decideAdmission(withInFlight(9), 'critical', 0, options)).toEqual({ admitted: true });
  });

  it('computes Retry-After from the drain rate: slots to free over turns finished per second', () => {
    // 20 completions in the last 10 s = 2/s; a low-priority turn needs 6 - 6 + 1 = 1 slot → 0.5 s, floored at 1 s.
    const now = 100_000;
    const recent = Array.from({ length: 20 }, (_, i) => now - 1_000 - i * 100);
    expect(decideAdmission(withInFlight(6, recent), 'low', now, options)).toMatchObject({
      retryAfterMs: 1_000,
    });
    // 2 completions in 10 s = 0.2/s; batch (limit 5) with 8 in flight needs 4 slots → 20 s.
    expect(
      decideAdmission(withInFlight(8, [now - 100, now - 200]), 'batch', now, options),
    ).toMatchObject({ retryAfterMs: 20_000 });
    // Nothing finished recently: the fallback.
    expect(decideAdmission(withInFlight(8, [now - 20_000]), 'batch', now, options)).toMatchObject({
      retryAfterMs: 5_000,
    });
  });

  it('counts only completions inside the window and forgets older ones on release', () => {
    // The window is (1 000, 11 000]: two completions in 10 s.
    expect(drainRatePerSecond([1_000, 9_000, 10_500], 11_000, 10_000)).toBeCloseTo(0.2);
    let state = admitted(admitted(initialAdmissionState));
    state = released(state, 1_000, options, true);
    state = released(state, 20_000, options, false);
    expect(state).toEqual({ inFlight: 0, shedFloor: undefined, completions: [] });
  });

  it('keeps only the most recent completions of a busy window, and measures the rate over them', () => {
    // 100 turns a second for 10 s: far more completions in the window than are tracked.
    let state = initialAdmissionState;
    for (let at = 10; at <= 10_000; at += 10) state = released(admitted(state), at, options, true);
    expect(state.completions).toHaveLength(MAX_TRACKED_COMPLETIONS);
    expect(state.completions.at(-1)).toBe(10_000);
    expect(drainRatePerSecond(state.completions, 10_000, 10_000)).toBeCloseTo(
      MAX_TRACKED_COMPLETIONS / ((MAX_TRACKED_COMPLETIONS - 1) / 100),
    );
  });

  it('keeps exactly the completions a filter over the window would keep, whatever the pace', () => {
    // The rule as first written: every completion inside the window, the most recent 128 of them.
    const byFilter = (kept: readonly number[], at: number, completed: boolean): number[] => {
      const recent = kept.filter((t) => t > at - options.drainWindowMs);
      if (completed) recent.push(at);
      return recent.slice(-MAX_TRACKED_COMPLETIONS);
    };
    let state = initialAdmissionState;
    let expected: number[] = [];
    let at = 0;
    let mismatches = 0;
    let longest = 0;
    // Slow and fast stretches, pauses longer than the window, releases that complete nothing.
    for (let i = 0; i < 4_000; i++) {
      at += i % 997 === 0 ? 12_000 : (i * 7919) % (i < 2_000 ? 300 : 40);
      const completed = i % 5 !== 0;
      state = released(admitted(state), at, options, completed);
      expected = byFilter(expected, at, completed);
      if (state.completions.join() !== expected.join()) mismatches++;
      longest = Math.max(longest, state.completions.length);
    }
    expect(mismatches).toBe(0);
    expect(longest).toBe(MAX_TRACKED_COMPLETIONS);
  });

  it('does not copy the list for a release that neither finishes a turn nor expires one', () => {
    const state = released(admitted(withInFlight(0, [9_000, 9_500])), 10_000, options, false);
    const again = released(admitted(state), 10_001, options, false);
    expect(again.completions).toBe(state.completions);
  });

  it('after a router shed, sheds that priority and below until the hint passes, never the ones above', () => {
    const state = fleetSaturated(initialAdmissionState, 'standard', 3_000, 1_000);
    expect(decideAdmission(state, 'low', 2_000, options)).toEqual({
      admitted: false,
      reason: 'fleet_saturated',
      retryAfterMs: 2_000,
    });
    expect(decideAdmission(state, 'standard', 2_000, options)).toMatchObject({ admitted: false });
    expect(decideAdmission(state, 'high', 2_000, options)).toEqual({ admitted: true });
    expect(decideAdmission(state, 'low', 4_001, options)).toEqual({ admitted: true });
    // A later, lower shed does not lower the floor while it holds.
    const widened = fleetSaturated(state, 'batch', 500, 1_500);
    expect(widened.shedFloor).toEqual({ rank: 3, untilMs: 4_000 });
  });
});
