// Test data builders for specs; left out of the build (tsconfig.build.json).
import type { Assignment } from './assignment.js';
import type { ShardLoad, ShardSpec } from './shard.js';

let sequence = 0;

/** A valid registration; override what the test is about. */
export function aShardSpec(overrides: Partial<ShardSpec> = {}): ShardSpec {
  sequence++;
  return {
    shardId: `shard-${sequence}`,
    pool: 'pool-a',
    model: 'llama-3-8b',
    modelVersion: '1',
    zone: 'zone-1',
    endpoint: `127.0.0.1:${50100 + (sequence % 1000)}`,
    maxInFlightStreams: 64,
    kvCapacityTokens: 500_000,
    hardwareProfile: 'a100-80g',
    costPerHour: 2.5,
    ...overrides,
  };
}

export function aLoad(overrides: Partial<ShardLoad> = {}): ShardLoad {
  return {
    runningRequests: 3,
    waitingRequests: 1,
    kvCacheUsage: 0.25,
    inFlightStreams: 4,
    maxInFlightStreams: 64,
    ttftMsP50: 120,
    itlMsP50: 18,
    queueTimeMsP50: 0,
    prefixCacheHitRatio: 0.4,
    observedAtMs: 1_000,
    recentPrefixBlocks: [11, 22, 33],
    ...overrides,
  };
}

export function anAssignment(overrides: Partial<Assignment> = {}): Assignment {
  sequence++;
  return {
    conversationId: `conv-${sequence}`,
    tenantId: 'tenant-1',
    shardId: 'shard-1',
    version: 1,
    updatedAtMs: 1_000,
    reason: 'placed',
    ...overrides,
  };
}
