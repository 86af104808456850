import { retryWithin } from './kafka-client.js';

describe('retryWithin', () => {
  it('fits the backoff schedule inside the budget', () => {
    const schedule = (budget: number): number => {
      const { initialRetryTime = 0, maxRetryTime = 0, retries = 0 } = retryWithin(budget);
      let total = 0;
      for (
        let i = 0, wait = initialRetryTime;
        i < retries;
        i++, wait = Math.min(wait * 2, maxRetryTime)
      )
        total += wait;
      return total;
    };
    for (const budget of [500, 5_000, 10_000, 60_000])
      expect(schedule(budget)).toBeLessThanOrEqual(budget);
    expect(retryWithin(10_000).retries).toBeGreaterThan(5);
  });

  it('always allows one retry, which the idempotent producer requires', () => {
    expect(retryWithin(10).retries).toBe(1);
  });
});
