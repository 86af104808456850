import { jest } from '@jest/globals';
import type { DetectFailuresUseCase } from '../../application/detect-failures/detect-failures.use-case.js';
import { FailureDetectionTimer } from './failure-detection.timer.js';

describe('FailureDetectionTimer', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  function setup() {
    let now = 0;
    const passes: number[] = [];
    const skipped: number[] = [];
    const detect = {
      execute: async () => {
        passes.push(now);
        return { failed: [], errors: [], answeredProbe: [], probeFailures: new Map() };
      },
    } as unknown as DetectFailuresUseCase;
    const timer = new FailureDetectionTimer(
      detect,
      100,
      {
        shardFailed: () => undefined,
        probeAnswered: () => undefined,
        passFailed: () => undefined,
        passSkipped: (lag) => skipped.push(lag),
      },
      () => now,
    );
    const tickAt = async (at: number): Promise<void> => {
      now = at;
      await jest.advanceTimersByTimeAsync(100);
    };
    return { timer, passes, skipped, tickAt };
  }

  it('runs a pass on every punctual tick', async () => {
    const { timer, passes, tickAt } = setup();
    timer.start();
    for (const at of [100, 200, 300]) await tickAt(at);
    expect(passes).toEqual([100, 200, 300]);
    await timer.stop();
  });

  it('skips the pass after a stall, but never two in a row', async () => {
    const { timer, passes, skipped, tickAt } = setup();
    timer.start();
    await tickAt(100);
    await tickAt(900); // stalled 700 ms
    await tickAt(1_700); // stalled again
    expect(skipped).toEqual([700]);
    expect(passes).toEqual([100, 1_700]);
    await timer.stop();
  });
});
