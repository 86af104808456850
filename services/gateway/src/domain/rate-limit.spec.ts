import { formatResetDuration, retryAfterSeconds } from './rate-limit.js';

describe('rate-limit headers', () => {
  it.each([
    [0, '0ms'],
    [20, '20ms'],
    [1_000, '1s'],
    [1_500, '1.5s'],
    [360_000, '6m0s'],
    [3_723_500, '1h2m3.5s'],
  ])('formats %i ms as %s', (ms, text) => {
    expect(formatResetDuration(ms)).toBe(text);
  });

  it('rounds Retry-After up, to at least one second', () => {
    expect([0, 1, 999, 1_000, 1_001, 19_650].map(retryAfterSeconds)).toEqual([1, 1, 1, 1, 2, 20]);
  });
});
