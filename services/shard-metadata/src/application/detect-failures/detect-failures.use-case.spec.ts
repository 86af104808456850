import { aLoad, aShardSpec } from '../../domain/test.factories.js';
import { FakeClock, FakeShardRepository } from '../../../test/support/fakes.js';
import { InMemoryChangeFeed } from '../change-feed/in-memory-change-feed.js';
import type { ShardChange } from '../registry/shard-change.js';
import { ShardRegistry } from '../registry/shard-registry.js';
import { DetectFailuresUseCase } from './detect-failures.use-case.js';

describe('DetectFailuresUseCase', () => {
  it('fails the silent shards only, and publishes the failure', async () => {
    const clock = new FakeClock();
    const repository = new FakeShardRepository();
    const registry = new ShardRegistry(repository, clock, new InMemoryChangeFeed<ShardChange>());
    await registry.load();
    const detect = new DetectFailuresUseCase(registry, clock, {
      failureAfterMs: 600,
      restartGraceMs: 5_000,
    });
    const silent = aShardSpec();
    const alive = aShardSpec();
    for (const spec of [silent, alive])
      await registry.execute(spec.shardId, (nowMs) => ({ kind: 'RegisterShard', spec, nowMs }));

    clock.advance(400);
    await registry.execute(alive.shardId, (nowMs) => ({
      kind: 'RecordHeartbeat',
      shardId: alive.shardId,
      load: aLoad(),
      ready: true,
      nowMs,
    }));
    expect((await detect.execute()).failed).toEqual([]);

    clock.advance(300);
    const { failed, errors } = await detect.execute();
    expect(failed.map((shard) => shard.shardId)).toEqual([silent.shardId]);
    expect(errors).toEqual([]);
    expect(registry.get(alive.shardId)?.state).toBe('ready');
    expect(repository.published.at(-1)).toMatchObject({
      type: 'ShardFailed',
      shardId: silent.shardId,
    });
  });

  it('reports a shard it could not mark, and marks it on a later pass', async () => {
    const clock = new FakeClock();
    const repository = new FakeShardRepository();
    const registry = new ShardRegistry(repository, clock, new InMemoryChangeFeed<ShardChange>());
    await registry.load();
    const detect = new DetectFailuresUseCase(registry, clock, {
      failureAfterMs: 600,
      restartGraceMs: 5_000,
    });
    const spec = aShardSpec();
    await registry.execute(spec.shardId, (nowMs) => ({ kind: 'RegisterShard', spec, nowMs }));
    clock.advance(601);
    repository.failNext = new Error('database down');
    expect((await detect.execute()).errors).toEqual([
      { shardId: spec.shardId, error: new Error('database down') },
    ]);
    expect(registry.get(spec.shardId)?.state).toBe('starting');
    expect((await detect.execute()).failed.map((shard) => shard.shardId)).toEqual([spec.shardId]);
  });
});
