import { BlockSet } from '../prefix/block-set.js';
import type { PlacementRequest } from '../placement/placement-request.js';
import { ShardDirectory } from '../placement/shard-directory.js';
import { IDLE_LOAD, type ShardLoad, type ShardView } from '../placement/shard-view.js';

/** Test-data builders for placement (also handy for adapter tests and benches). */
export interface ShardSpec extends Partial<Omit<ShardView, 'load' | 'recentPrefixBlocks'>> {
  readonly load?: Partial<ShardLoad>;
  readonly blocks?: readonly number[];
}

export function aShard(spec: ShardSpec = {}): ShardView {
  const { load, blocks, ...rest } = spec;
  const id = rest.id ?? 'shard-a';
  return {
    id,
    pool: 'pool-a',
    model: 'model-a',
    zone: 'zone-1',
    endpoint: `${id}.local:50051`,
    state: 'ready',
    capacity: { maxInFlight: 8, kvCapacityTokens: 1_000_000 },
    ...rest,
    load: { ...IDLE_LOAD, ...load },
    recentPrefixBlocks: BlockSet.of(blocks ?? []),
  };
}

export function aRequest(overrides: Partial<PlacementRequest> = {}): PlacementRequest {
  return {
    conversationId: 'conversation-1',
    promptBlocks: [],
    promptTokens: 256,
    priority: 'standard',
    pools: ['pool-a'],
    ...overrides,
  };
}

export function aDirectory(...shards: ShardView[]): ShardDirectory {
  const directory = new ShardDirectory();
  for (const shard of shards) directory.upsert(shard);
  return directory;
}
