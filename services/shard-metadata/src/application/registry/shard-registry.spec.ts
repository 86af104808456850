import { aLoad, aShardSpec } from '../../domain/test.factories.js';
import {
  FakeClock,
  FakeShardRepository,
  registerReadyShard,
  take,
} from '../../../test/support/fakes.js';
import { InMemoryChangeFeed } from '../change-feed/in-memory-change-feed.js';
import type { ShardChange } from './shard-change.js';
import { ShardRegistry } from './shard-registry.js';

function setup(repository = new FakeShardRepository()) {
  const clock = new FakeClock();
  const feed = new InMemoryChangeFeed<ShardChange>();
  const registry = new ShardRegistry(repository, clock, feed);
  return { clock, feed, registry, repository };
}

describe('ShardRegistry', () => {
  it('persists lifecycle events with the shard and makes the change visible only after the commit', async () => {
    const { registry, repository } = setup();
    await registry.load();
    const spec = aShardSpec();
    repository.hold();
    const registering = registry.execute(spec.shardId, (nowMs) => ({
      kind: 'RegisterShard',
      spec,
      nowMs,
    }));
    await Promise.resolve();
    expect(registry.get(spec.shardId)).toBeUndefined();
    repository.release();
    const shard = await registering;
    expect(shard?.state).toBe('starting');
    expect(registry.get(spec.shardId)).toEqual(shard);
    expect(repository.published.map((event) => event.type)).toEqual(['ShardRegistered']);
  });

  it('does not persist heartbeats that change only load', async () => {
    const { registry, repository } = setup();
    await registry.load();
    const spec = aShardSpec();
    await registerReadyShard(registry, spec);
    await registry.execute(spec.shardId, (nowMs) => ({
      kind: 'RecordHeartbeat',
      shardId: spec.shardId,
      load: aLoad(),
      ready: true,
      nowMs,
    }));
    expect(repository.published.map((event) => event.type)).toEqual([
      'ShardRegistered',
      'ShardReady',
    ]);
    expect(registry.get(spec.shardId)?.load).toEqual(aLoad());
  });

  it('runs one shard’s commands in order: a heartbeat queued behind a failure sees the failed shard', async () => {
    const { registry, repository, clock } = setup();
    await registry.load();
    const spec = aShardSpec();
    await registry.execute(spec.shardId, (nowMs) => ({ kind: 'RegisterShard', spec, nowMs }));
    clock.advance(1_000);
    repository.hold();
    const failing = registry.execute(spec.shardId, (nowMs) => ({
      kind: 'DetectFailure',
      shardId: spec.shardId,
      nowMs,
      watchingSinceMs: 0,
      config: { failureAfterMs: 600, restartGraceMs: 5_000 },
    }));
    const heartbeat = registry.execute(spec.shardId, (nowMs) => ({
      kind: 'RecordHeartbeat',
      shardId: spec.shardId,
      load: aLoad(),
      ready: true,
      nowMs,
    }));
    repository.release();
    expect((await failing)?.state).toBe('failed');
    expect((await heartbeat)?.state).toBe('failed');
  });

  it('leaves memory unchanged when the transaction fails', async () => {
    const { registry, repository } = setup();
    await registry.load();
    const spec = aShardSpec();
    repository.failNext = new Error('connection reset');
    await expect(
      registry.execute(spec.shardId, (nowMs) => ({ kind: 'RegisterShard', spec, nowMs })),
    ).rejects.toThrow('connection reset');
    expect(registry.get(spec.shardId)).toBeUndefined();
  });

  it('throws the domain error of a refusal', async () => {
    const { registry } = setup();
    await registry.load();
    await expect(
      registry.execute('ghost', (nowMs) => ({
        kind: 'RecordHeartbeat',
        shardId: 'ghost',
        load: undefined,
        ready: true,
        nowMs,
      })),
    ).rejects.toMatchObject({ code: 'SHARD.NOT_FOUND' });
  });

  it('streams changes after the snapshot with increasing revisions', async () => {
    const { registry } = setup();
    await registry.load();
    const a = aShardSpec();
    const b = aShardSpec();
    await registry.execute(a.shardId, (nowMs) => ({ kind: 'RegisterShard', spec: a, nowMs }));
    const controller = new AbortController();
    const watch = registry.watch({ signal: controller.signal, maxBuffered: 100 });
    expect(watch.snapshot.map((shard) => shard.shardId)).toEqual([a.shardId]);
    await registry.execute(b.shardId, (nowMs) => ({ kind: 'RegisterShard', spec: b, nowMs }));
    await registry.execute(a.shardId, (nowMs) => ({
      kind: 'DrainShard',
      shardId: a.shardId,
      reason: 'x',
      nowMs,
    }));
    await registry.execute(b.shardId, (nowMs) => ({
      kind: 'RemoveShard',
      shardId: b.shardId,
      reason: 'x',
      nowMs,
    }));
    const changes = await take(watch.changes, 3);
    controller.abort();
    expect(
      changes.map((change) => [change.kind, change.shard.shardId, change.shard.state]),
    ).toEqual([
      ['upserted', b.shardId, 'starting'],
      ['upserted', a.shardId, 'draining'],
      ['removed', b.shardId, 'removed'],
    ]);
    const revisions = [watch.revision, ...changes.map((change) => change.shard.revision)];
    expect([...revisions].sort((x, y) => x - y)).toEqual(revisions);
    expect(new Set(revisions).size).toBe(revisions.length);
  });

  it('gives loaded shards revisions newer than any handed out before the restart', async () => {
    const first = setup();
    await first.registry.load();
    const spec = aShardSpec();
    const before = await first.registry.execute(spec.shardId, (nowMs) => ({
      kind: 'RegisterShard',
      spec,
      nowMs,
    }));
    const restarted = setup(first.repository);
    // Within the same millisecond would need over a thousand changes per millisecond to collide.
    restarted.clock.now = first.clock.now + 1;
    await restarted.registry.load();
    expect(restarted.registry.get(spec.shardId)?.revision).toBeGreaterThan(
      before?.revision ?? Infinity,
    );
  });
});
