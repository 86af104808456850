import type { common } from '@spillway/contracts';
import { toShardLoad } from './shard-view.mapper.js';

const report: common.ShardLoad = {
  runningRequests: 6,
  waitingRequests: 3,
  kvCacheUsage: 0.5,
  inFlightStreams: 7,
  maxInFlightStreams: 32,
  ttftMsP50: 800,
  itlMsP50: 9,
  queueTimeMsP50: 500,
  prefixCacheHitRatio: 0.4,
  observedAtMs: 1_000,
  recentPrefixBlocks: [],
};

describe('load report → shard load', () => {
  it("keeps the engine-queue share of TTFT; the prefill backlog is the router's own count", () => {
    expect(toShardLoad(report)).toEqual({
      running: 6,
      waiting: 3,
      kvCacheUsage: 0.5,
      inFlight: 7,
      prefillBacklogMs: 0,
      ttftMsP50: 800,
      queueTimeMsP50: 500,
      itlMsP50: 9,
      observedAtMs: 1_000,
    });
  });
});
