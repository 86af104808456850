import { aLoad, aShardSpec } from '../../domain/test.factories.js';
import { FakeClock, FakeShardRepository, registerReadyShard } from '../../../test/support/fakes.js';
import { InMemoryChangeFeed } from '../change-feed/in-memory-change-feed.js';
import type { ShardChange } from '../registry/shard-change.js';
import { ShardRegistry } from '../registry/shard-registry.js';
import type { ProbeAnswer, ShardProbe } from '../ports/shard-probe.port.js';
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

  describe('with a probe', () => {
    async function setup(answers: Record<string, ProbeAnswer>) {
      const clock = new FakeClock();
      const repository = new FakeShardRepository();
      const registry = new ShardRegistry(repository, clock, new InMemoryChangeFeed<ShardChange>());
      await registry.load();
      const probed: string[] = [];
      const probe: ShardProbe = {
        probe: async (shard) => {
          probed.push(shard.shardId);
          return answers[shard.shardId] ?? { kind: 'not-serving', reason: 'no answer' };
        },
      };
      const detect = new DetectFailuresUseCase(
        registry,
        clock,
        { failureAfterMs: 600, restartGraceMs: 5_000 },
        probe,
      );
      return { clock, repository, registry, detect, probed };
    }

    it('keeps a silent shard that answers as itself, and records its answer as its load', async () => {
      const slow = aShardSpec();
      const load = aLoad({ runningRequests: 7 });
      const { clock, registry, detect, probed, repository } = await setup({
        [slow.shardId]: { kind: 'serving', load },
      });
      await registerReadyShard(registry, slow);
      clock.advance(601);
      const result = await detect.execute();
      expect(probed).toEqual([slow.shardId]);
      expect(result.failed).toEqual([]);
      expect(result.answeredProbe.map((shard) => shard.shardId)).toEqual([slow.shardId]);
      expect(registry.get(slow.shardId)).toMatchObject({
        state: 'ready',
        lastHeartbeatAtMs: clock.nowMs(),
        load,
      });
      expect(repository.published.map((event) => event.type)).not.toContain('ShardFailed');
      // Heard from now: not overdue again until another full threshold of silence.
      clock.advance(500);
      await detect.execute();
      expect(probed).toEqual([slow.shardId]);
    });

    it('fails a silent shard that does not answer, and says why', async () => {
      const dead = aShardSpec();
      const { clock, registry, detect } = await setup({
        [dead.shardId]: { kind: 'not-serving', reason: 'connection refused' },
      });
      await registerReadyShard(registry, dead);
      clock.advance(601);
      const result = await detect.execute();
      expect(result.failed.map((shard) => shard.shardId)).toEqual([dead.shardId]);
      expect(result.probeFailures.get(dead.shardId)).toBe('connection refused');
      expect(registry.get(dead.shardId)?.state).toBe('failed');
    });

    it('probes only shards that missed their heartbeats', async () => {
      const beating = aShardSpec();
      const { clock, registry, detect, probed } = await setup({});
      await registerReadyShard(registry, beating);
      clock.advance(500);
      expect((await detect.execute()).failed).toEqual([]);
      expect(probed).toEqual([]);
    });
  });
});
