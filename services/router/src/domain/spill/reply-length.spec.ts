import { aShard } from '../testing/factories.js';
import { DEFAULT_LATENCY_MODEL, predictLatency, type LatencyModelConfig } from './latency-model.js';
import { ReplyLengthTracker } from './reply-length.js';

describe('reply length tracker', () => {
  it('starts at the prior, which the first replies barely move', () => {
    const tracker = new ReplyLengthTracker(256, 1 / 64, 16);
    expect(tracker.tokens()).toBe(256);
    tracker.observe(16);
    // (256 × 16 + 16) / 17
    expect(tracker.tokens()).toBeCloseTo(241.9, 1);
  });

  it('converges on the replies it sees, then follows a change of workload', () => {
    const tracker = new ReplyLengthTracker(256);
    for (let i = 0; i < 500; i++) tracker.observe(16);
    expect(tracker.tokens()).toBeGreaterThan(16);
    expect(tracker.tokens()).toBeLessThan(17);
    for (let i = 0; i < 500; i++) tracker.observe(400);
    expect(tracker.tokens()).toBeGreaterThan(399);
  });

  it('ignores nonsense and never estimates below one token', () => {
    const tracker = new ReplyLengthTracker(8, 1);
    tracker.observe(Number.NaN);
    tracker.observe(-5);
    expect(tracker.tokens()).toBe(8);
    tracker.observe(0);
    expect(tracker.tokens()).toBe(1);
  });

  it('refuses a prior or weight that makes no sense', () => {
    expect(() => new ReplyLengthTracker(0)).toThrow(RangeError);
    expect(() => new ReplyLengthTracker(10, 0)).toThrow(RangeError);
    expect(() => new ReplyLengthTracker(10, 1 / 64, 0)).toThrow(RangeError);
  });

  it('calibrates the queue wait the latency model predicts on a full shard', () => {
    // One slot, two turns in the system: the new turn waits one service time, TTFT + reply × ITL.
    const shard = aShard({
      capacity: { maxInFlight: 1, kvCapacityTokens: 1 },
      load: { inFlight: 1, running: 1, ttftMsP50: 100, itlMsP50: 5 },
    });
    const turn = { promptTokens: 0, cachedBlocks: 0, queuedAhead: 0 };
    const tracker = new ReplyLengthTracker(256, 1);
    const config: LatencyModelConfig = { ...DEFAULT_LATENCY_MODEL, replyLength: tracker };
    expect(predictLatency(shard, turn, config).queueWaitMs).toBe(100 + 256 * 5);
    tracker.observe(16);
    expect(predictLatency(shard, turn, config).queueWaitMs).toBe(100 + 16 * 5);
  });
});
