import { DomainError } from '@spillway/errors';
import { canarySplit } from '@spillway/model-routes';
import type {
  LogPort,
  SharedModelRoutes,
  SharedRoutesRegistry,
  SharedRoutesReplace,
} from '../../application/index.js';
import { aDirectory, aShard, type ModelRouteTable } from '../../domain/index.js';
import { SharedModelRoutesSource } from './shared-model-routes.source.js';

/** The registry port in memory: compare-and-set on the generation, or unreachable. */
class FakeRegistry implements SharedRoutesRegistry {
  stored: SharedModelRoutes = { table: { models: {} }, generation: 0 };
  unreachable = false;

  async replace(table: ModelRouteTable, expectedGeneration: number): Promise<SharedRoutesReplace> {
    if (this.unreachable)
      throw new DomainError('DEPENDENCY.UNAVAILABLE', 'the shard registry cannot be reached');
    if (expectedGeneration !== 0 && expectedGeneration !== this.stored.generation)
      return { applied: false, current: this.stored };
    this.stored = { table, generation: this.stored.generation + 1 };
    return { applied: true, current: this.stored };
  }
}

/** Keeps every line, so a test can read what an operator would. */
class RecordingLog implements LogPort {
  readonly lines: { level: string; message: string }[] = [];
  debug = (message: string) => void this.lines.push({ level: 'debug', message });
  info = (message: string) => void this.lines.push({ level: 'info', message });
  warn = (message: string) => void this.lines.push({ level: 'warn', message });
  error = (message: string) => void this.lines.push({ level: 'error', message });
}

function aSource(shards = aDirectory(aShard({ id: 'a', model: 'llama', pool: 'stable' }))) {
  const registry = new FakeRegistry();
  const log = new RecordingLog();
  return { registry, log, shards, source: new SharedModelRoutesSource(registry, shards, log) };
}

describe('shared model routes', () => {
  it('derives a table from the shards until the registry holds one, then routes on the registry’s', () => {
    const { source, shards } = aSource();
    expect(source.snapshot()).toMatchObject({
      generation: 0,
      source: expect.stringContaining('has not answered yet'),
    });
    expect(source.current()).toEqual({
      models: { llama: { pools: [{ pool: 'stable', weight: 1 }] } },
    });

    source.follow({ table: { models: {} }, generation: 0 }, true);
    shards.upsert(aShard({ id: 'b', model: 'mistral', pool: 'm1' }));
    source.shardChanged({ shardId: 'b', previous: undefined, current: 'ready' });
    expect(Object.keys(source.current().models)).toEqual(['llama', 'mistral']);
    expect(source.snapshot().source).toContain('derived from the pools the shards serve');

    source.follow({ table: canarySplit('llama', 9, 1), generation: 1 }, false);
    expect(source.current()).toEqual(canarySplit('llama', 9, 1));
    expect(source.snapshot()).toEqual({
      table: canarySplit('llama', 9, 1),
      generation: 1,
      source: 'shared, following the shard registry',
    });
  });

  it('applies later tables only when newer, and takes a new watch’s first table as the truth', () => {
    const { source, log } = aSource();
    source.follow({ table: canarySplit('llama', 9, 1), generation: 4 }, true);
    source.follow({ table: canarySplit('llama', 1, 0), generation: 3 }, false);
    expect(source.snapshot()).toMatchObject({ table: canarySplit('llama', 9, 1), generation: 4 });

    // The registry's store went back (restored): it is still the authority.
    source.follow({ table: canarySplit('llama', 1, 0), generation: 2 }, true);
    expect(source.snapshot()).toMatchObject({ table: canarySplit('llama', 1, 0), generation: 2 });
    expect(log.lines).toContainEqual({
      level: 'warn',
      message: 'model routes: the shard registry holds an older generation; following it',
    });
  });

  it('keeps routing on the last table when the registry goes away, and says so', () => {
    const { source, log } = aSource();
    source.follow({ table: canarySplit('llama', 9, 1), generation: 2 }, true);
    source.registryLost('connection refused');
    source.registryLost('connection refused');

    expect(source.current()).toEqual(canarySplit('llama', 9, 1));
    expect(source.snapshot()).toMatchObject({
      generation: 2,
      source: 'shared; the shard registry is unreachable, routing on the last table it sent',
    });
    expect(log.lines.filter((line) => line.level === 'warn')).toEqual([
      {
        level: 'warn',
        message:
          'model routes: the shard registry is unreachable; routing on the last table it sent',
      },
    ]);

    source.follow({ table: canarySplit('llama', 9, 1), generation: 2 }, true);
    expect(source.snapshot().source).toBe('shared, following the shard registry');
    expect(log.lines.at(-1)).toEqual({
      level: 'info',
      message: 'model routes: following the shard registry again',
    });
  });

  it('writes a replace through to the registry and routes on it before the watch delivers it', async () => {
    const { source, registry } = aSource();
    source.follow({ table: canarySplit('llama', 1, 0), generation: 0 }, true);

    expect(await source.swap(canarySplit('llama', 9, 1), 0)).toEqual({
      kind: 'swapped',
      snapshot: {
        table: canarySplit('llama', 9, 1),
        generation: 1,
        source: 'shared, following the shard registry',
      },
    });
    expect(registry.stored.generation).toBe(1);
    expect(source.current()).toEqual(canarySplit('llama', 9, 1));

    // The watch delivers the same table afterwards: nothing changes.
    source.follow({ table: canarySplit('llama', 9, 1), generation: 1 }, false);
    expect(source.snapshot().generation).toBe(1);
  });

  it('refuses a replace on a stale shared generation, learning the one stored', async () => {
    const { source, registry } = aSource();
    source.follow({ table: canarySplit('llama', 1, 0), generation: 0 }, true);
    registry.stored = { table: canarySplit('llama', 0, 1), generation: 7 };

    expect(await source.swap(canarySplit('llama', 9, 1), 3)).toEqual({
      kind: 'stale-generation',
      current: 7,
    });
    expect(registry.stored).toEqual({ table: canarySplit('llama', 0, 1), generation: 7 });
    // The answer carried the stored table: this replica routes on it without waiting.
    expect(source.snapshot()).toMatchObject({ table: canarySplit('llama', 0, 1), generation: 7 });
  });

  it('changes nothing when the registry cannot be reached for a replace', async () => {
    const { source, registry } = aSource();
    source.follow({ table: canarySplit('llama', 1, 0), generation: 1 }, true);
    registry.unreachable = true;

    await expect(source.swap(canarySplit('llama', 0, 1), 1)).rejects.toMatchObject({
      code: 'DEPENDENCY.UNAVAILABLE',
    });
    expect(source.snapshot()).toMatchObject({ table: canarySplit('llama', 1, 0), generation: 1 });
  });

  it('has nothing to re-read on SIGHUP', () => {
    const { source } = aSource();
    source.follow({ table: canarySplit('llama', 9, 1), generation: 5 }, true);
    expect(source.reload()).toEqual({ ok: true, table: canarySplit('llama', 9, 1), generation: 5 });
  });
});
