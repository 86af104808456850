import { isOverdue, silenceMs } from './failure-detector.js';

describe('failure detector', () => {
  const config = { failureAfterMs: 600, restartGraceMs: 2_000 };

  it.each([
    { nowMs: 10_600, lastHeartbeatAtMs: 10_000, overdue: false },
    { nowMs: 10_601, lastHeartbeatAtMs: 10_000, overdue: true },
    { nowMs: 10_000, lastHeartbeatAtMs: 10_050, overdue: false },
  ])(
    'now=$nowMs last=$lastHeartbeatAtMs → overdue=$overdue',
    ({ nowMs, lastHeartbeatAtMs, overdue }) => {
      expect(isOverdue({ nowMs, lastHeartbeatAtMs, watchingSinceMs: 0 }, config)).toBe(overdue);
    },
  );

  it('does not count silence from before the registry was watching, and allows the restart grace', () => {
    const liveness = { nowMs: 20_000, lastHeartbeatAtMs: 1_000, watchingSinceMs: 19_700 };
    expect(silenceMs(liveness)).toBe(300);
    expect(isOverdue({ ...liveness, nowMs: 21_700 }, config)).toBe(false);
    expect(isOverdue({ ...liveness, nowMs: 21_701 }, config)).toBe(true);
  });

  it('uses the normal threshold for a shard heard from since the start', () => {
    const liveness = { nowMs: 20_601, lastHeartbeatAtMs: 20_000, watchingSinceMs: 19_700 };
    expect(isOverdue(liveness, config)).toBe(true);
  });
});
