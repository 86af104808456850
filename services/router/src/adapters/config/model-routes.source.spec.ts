import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SILENT_LOG } from '../../application/index.js';
import { aDirectory, aShard, type ModelRouteTable } from '../../domain/index.js';
import { ModelRoutesSource, parseModelRoutes } from './model-routes.source.js';

const table = (canary: number) =>
  JSON.stringify({
    models: {
      llama: {
        pools: [
          { pool: 'stable', weight: 1 - canary },
          { pool: 'canary', weight: canary },
        ],
      },
    },
  });

describe('model routes source', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'routes-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('names every problem of a bad table', () => {
    expect(parseModelRoutes('{')).toMatchObject({ ok: false });
    const outcome = parseModelRoutes(
      JSON.stringify({ models: { llama: { pools: [{ pool: 'a', weight: -1 }] } } }),
    );
    expect(outcome).toMatchObject({ ok: false });
    expect(outcome.ok ? [] : outcome.problems).toEqual([
      'models["llama"].pools[0].weight: -1; use a number >= 0',
      'models["llama"].pools: no pool has a positive weight',
    ]);
  });

  it('swaps in an edited file on reload, and keeps the table in force when the edit is bad', () => {
    const path = join(dir, 'routes.json');
    writeFileSync(path, table(0.1));
    const source = new ModelRoutesSource({ kind: 'file', path }, aDirectory(), SILENT_LOG);
    source.load();
    expect(source.current().models.llama?.pools[1]?.weight).toBe(0.1);

    writeFileSync(path, table(0));
    expect(source.reload()).toMatchObject({ ok: true, generation: 2 });
    expect(source.current().models.llama?.pools[1]?.weight).toBe(0);

    writeFileSync(path, '{"models": {"llama": {"pools": []}}}');
    expect(source.reload()).toMatchObject({ ok: false });
    expect(source.current().models.llama?.pools[1]?.weight).toBe(0);
  });

  it('refuses to start with a bad table', () => {
    const source = new ModelRoutesSource(
      { kind: 'inline', json: '{"models": 3}' },
      aDirectory(),
      SILENT_LOG,
    );
    expect(() => source.load()).toThrow(/MODEL_ROUTES/);
  });

  it('derives routes from the shards when none are configured, and follows shard changes', () => {
    const shards = aDirectory(
      aShard({ id: 'a', model: 'llama', pool: 'p1' }),
      aShard({ id: 'b', model: 'llama', pool: 'p2' }),
    );
    const source = new ModelRoutesSource({ kind: 'derived' }, shards, SILENT_LOG);
    source.load();
    expect(source.current()).toEqual({
      models: {
        llama: {
          pools: [
            { pool: 'p1', weight: 1 },
            { pool: 'p2', weight: 1 },
          ],
        },
      },
    });

    shards.upsert(aShard({ id: 'c', model: 'mistral', pool: 'p3' }));
    source.shardChanged({ shardId: 'c', previous: undefined, current: 'ready' });
    expect(Object.keys(source.current().models)).toEqual(['llama', 'mistral']);
  });

  it('swaps in a table from the admin API at once, on top of the generation the caller read', async () => {
    const path = join(dir, 'routes.json');
    writeFileSync(path, table(0.1));
    const source = new ModelRoutesSource({ kind: 'file', path }, aDirectory(), SILENT_LOG);
    source.load();
    expect(source.snapshot()).toMatchObject({ generation: 1, source: path });

    const rollback = JSON.parse(table(0)) as ModelRouteTable;
    expect(await source.swap(rollback, 5)).toEqual({ kind: 'stale-generation', current: 1 });
    expect(source.current().models.llama?.pools[1]?.weight).toBe(0.1);

    expect(await source.swap(rollback, 1)).toEqual({
      kind: 'swapped',
      snapshot: { table: rollback, generation: 2, source: 'admin' },
    });
    expect(source.current()).toBe(rollback);
    expect(await source.swap(JSON.parse(table(0.5)) as ModelRouteTable, 0)).toMatchObject({
      kind: 'swapped',
      snapshot: { generation: 3 },
    });

    // A reload goes back to the configured source.
    expect(source.reload()).toMatchObject({ ok: true, generation: 4 });
    expect(source.snapshot()).toMatchObject({ generation: 4, source: path });
    expect(source.current().models.llama?.pools[1]?.weight).toBe(0.1);
  });

  it('keeps a swapped-in table over the derived one until a reload', async () => {
    const shards = aDirectory(aShard({ id: 'a', model: 'llama', pool: 'p1' }));
    const source = new ModelRoutesSource({ kind: 'derived' }, shards, SILENT_LOG);
    source.load();
    const only: ModelRouteTable = { models: { mistral: { pools: [{ pool: 'p9', weight: 1 }] } } };
    await source.swap(only, 0);
    shards.upsert(aShard({ id: 'c', model: 'qwen', pool: 'p3' }));
    source.shardChanged({ shardId: 'c', previous: undefined, current: 'ready' });
    expect(source.current()).toBe(only);

    source.reload();
    expect(Object.keys(source.current().models)).toEqual(['llama', 'qwen']);
    expect(source.snapshot().source).toBe('the shard registry');
  });
});
