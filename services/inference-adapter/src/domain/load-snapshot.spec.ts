import { nextLoadWindow, quantile, windowP50, type CumulativeHistogram } from './load-snapshot.js';

const histogram = (
  bounds: readonly number[],
  observations: readonly number[],
): CumulativeHistogram => ({
  buckets: [...bounds, Number.POSITIVE_INFINITY].map((le) => ({
    le,
    count: observations.filter((o) => o <= le).length,
  })),
  count: observations.length,
  sum: observations.reduce((a, b) => a + b, 0),
});

const bounds = [0.01, 0.02, 0.05, 0.1];
const local = { inFlight: 0, maxInFlight: 8, recentPrefixBlocks: [11, 7] };

describe('load snapshot', () => {
  it('interpolates the median inside its bucket', () => {
    expect(quantile(histogram(bounds, [0.015, 0.015]), 0.5)).toBeCloseTo(0.015);
    expect(quantile(histogram(bounds, []), 0.5)).toBeUndefined();
    expect(quantile(histogram(bounds, [5, 5]), 0.5)).toBe(0.1);
  });

  it('takes the median of the window only, and treats a counter reset as a fresh start', () => {
    const before = histogram(bounds, [0.09, 0.09, 0.09]);
    const after = histogram(bounds, [0.09, 0.09, 0.09, 0.005, 0.005]);
    expect(windowP50(before, after)).toBeLessThanOrEqual(0.01);
    const restarted = histogram(bounds, [0.04]);
    expect(windowP50(after, restarted)).toBeGreaterThan(0.02);
  });

  it('keeps the previous latency figures through a window without observations', () => {
    const busy = { ttftSeconds: histogram(bounds, [0.015]) };
    const first = nextLoadWindow(undefined, busy, local, 1);
    const quiet = nextLoadWindow(first, busy, local, 2);
    expect(quiet.snapshot.ttftMsP50).toBe(first.snapshot.ttftMsP50);
    expect(quiet.snapshot.ttftMsP50).toBeGreaterThan(0);
  });

  it('clamps ratios and carries the adapter-side figures', () => {
    const window = nextLoadWindow(
      undefined,
      { kvCacheUsage: 1.7, running: 2.4, waiting: -1 },
      local,
      9,
    );
    expect(window.snapshot).toMatchObject({
      kvCacheUsage: 1,
      runningRequests: 2,
      waitingRequests: 0,
      maxInFlightStreams: 8,
      recentPrefixBlocks: [11, 7],
      observedAtMs: 9,
    });
  });
});
