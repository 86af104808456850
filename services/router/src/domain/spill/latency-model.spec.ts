import { aShard } from '../testing/factories.js';
import {
  DEFAULT_LATENCY_MODEL,
  drainRatePerSecond,
  predictLatency,
  shardConcurrency,
  turnServiceMs,
  type LatencyModelConfig,
} from './latency-model.js';

const config: LatencyModelConfig = {
  ...DEFAULT_LATENCY_MODEL,
  expectedOutputTokens: 100,
  tokensPerBlock: 16,
  defaultPrefillTokensPerSecond: 8_000,
};
const capacity = { maxInFlight: 4, kvCapacityTokens: 1 };
const turn = { promptTokens: 1_600, cachedBlocks: 0, queuedAhead: 0 };

describe('latency model', () => {
  it('predicts no queue wait on a shard with a free slot, only the prefill', () => {
    const predicted = predictLatency(aShard({ capacity, load: { inFlight: 3 } }), turn, config);
    expect(predicted).toEqual({ queueWaitMs: 0, prefillMs: 200, ttftMs: 200 });
  });

  it('prefills only what the shard has not cached', () => {
    const predicted = predictLatency(aShard({ capacity }), { ...turn, cachedBlocks: 75 }, config);
    expect(predicted.prefillMs).toBe(50);
  });

  it('uses the shard prefill throughput when its profile states one', () => {
    const fast = aShard({ capacity: { ...capacity, prefillTokensPerSecond: 16_000 } });
    expect(predictLatency(fast, turn, config).prefillMs).toBe(100);
  });

  it('waits for slot releases when the shard is full: one service time per slot per turn ahead', () => {
    // Service time: 300 ms TTFT + 100 tokens × 7 ms = 1,000 ms; 4 slots release one every 250 ms.
    const full = aShard({
      capacity,
      load: { inFlight: 4, running: 4, ttftMsP50: 300, itlMsP50: 7 },
    });
    expect(turnServiceMs(full, config)).toBe(1_000);
    expect(predictLatency(full, turn, config).queueWaitMs).toBe(250);
    expect(predictLatency(full, { ...turn, queuedAhead: 3 }, config).queueWaitMs).toBe(1_000);
  });

  it('counts the engine queue, and a KV-bound engine drains at the batch it actually runs', () => {
    const kvBound = aShard({
      capacity,
      load: {
        inFlight: 4,
        running: 2,
        waiting: 2,
        kvCacheUsage: 0.95,
        ttftMsP50: 300,
        itlMsP50: 7,
      },
    });
    expect(shardConcurrency(kvBound)).toBe(2);
    // Four in the system, two running: three releases at 2 per 1,000 ms.
    expect(predictLatency(kvBound, turn, config).queueWaitMs).toBe(1_500);
    expect(drainRatePerSecond(kvBound, config)).toBe(2);
  });

  it('does not count the engine-queue share of TTFT as service time', () => {
    // 900 ms first tokens, 600 ms of them spent waiting for a batch slot: a slot is held 300 ms.
    const saturated = aShard({
      capacity,
      load: { inFlight: 4, ttftMsP50: 900, queueTimeMsP50: 600, itlMsP50: 7 },
    });
    expect(turnServiceMs(saturated, config)).toBe(300 + 700);
  });

  it('frees a slot as soon as a stream ends, not at the next load report', () => {
    // The report saw 4 running and 2 waiting, KV full; 3 of those streams have ended since.
    const reported = {
      running: 4,
      waiting: 2,
      kvCacheUsage: 0.95,
      inFlight: 6,
      ttftMsP50: 300,
      itlMsP50: 7,
    };
    const now = aShard({ capacity, load: { ...reported, inFlight: 3 } });
    expect(predictLatency(now, turn, config).queueWaitMs).toBe(0);
    expect(predictLatency(aShard({ capacity, load: reported }), turn, config).queueWaitMs).toBe(
      750,
    );
  });

  it('waits for the prefills ahead on an engine that queues with KV to spare', () => {
    // Queueing at 10 % KV: the engine is busy prefilling, not short of slots.
    const prefilling = aShard({
      capacity,
      load: {
        running: 1,
        waiting: 2,
        kvCacheUsage: 0.1,
        inFlight: 3,
        prefillBacklogMs: 900,
        ttftMsP50: 1_200,
        itlMsP50: 7,
      },
    });
    expect(shardConcurrency(prefilling)).toBe(4);
    expect(predictLatency(prefilling, turn, config)).toEqual({
      queueWaitMs: 900,
      prefillMs: 200,
      ttftMs: 1_100,
    });
  });

  it('prices attention when configured: quadratic in the context, less what is cached', () => {
    const attention = { ...config, prefillAttentionMsPerMillionPairs: 0.95 };
    const idle = aShard({ capacity });
    // 17,600 tokens cold: 2,200 ms linear + (17,600² / 2) pairs × 0.95 ms per million = 147.1 ms.
    const cold = { ...turn, promptTokens: 17_600 };
    expect(predictLatency(idle, cold, attention).prefillMs).toBeCloseTo(2_347.1, 1);
    expect(predictLatency(idle, cold, config).prefillMs).toBe(2_200);
    // 1,000 blocks (16,000 tokens) cached: 200 ms + (17,600² − 16,000²) / 2 × 0.95 / 1e6 = 25.5 ms.
    expect(predictLatency(idle, { ...cold, cachedBlocks: 1_000 }, attention).prefillMs).toBeCloseTo(
      225.5,
      1,
    );
    // A shard twice the default speed does both halves twice as fast.
    const fast = aShard({ capacity: { ...capacity, prefillTokensPerSecond: 16_000 } });
    expect(predictLatency(fast, cold, attention).prefillMs).toBeCloseTo(2_347.1 / 2, 1);
  });

  it('falls back to defaults for a shard that has not reported latencies yet', () => {
    const cold = aShard({ capacity });
    expect(turnServiceMs(cold, config)).toBe(config.defaultTtftMs + config.defaultItlMs * 100);
  });
});
