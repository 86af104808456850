import type { ModelRouteTable } from '../../domain/index.js';
import type {
  ModelRoutesSnapshot,
  ModelRoutesStore,
  ModelRoutesSwap,
} from '../model-routes.port.js';
import { ReplaceModelRoutes } from './replace-model-routes.use-case.js';

/** The store port, in memory. */
class FakeRoutes implements ModelRoutesStore {
  table: ModelRouteTable = { models: { llama: { pools: [{ pool: 'stable', weight: 1 }] } } };
  generation = 1;

  current(): ModelRouteTable {
    return this.table;
  }

  snapshot(): ModelRoutesSnapshot {
    return { table: this.table, generation: this.generation, source: 'test' };
  }

  async swap(table: ModelRouteTable, expectedGeneration: number): Promise<ModelRoutesSwap> {
    if (expectedGeneration !== 0 && expectedGeneration !== this.generation)
      return { kind: 'stale-generation', current: this.generation };
    this.table = table;
    this.generation++;
    return { kind: 'swapped', snapshot: this.snapshot() };
  }
}

describe('replace model routes', () => {
  it('swaps a valid table in', async () => {
    const routes = new FakeRoutes();
    const canary: ModelRouteTable = {
      models: {
        llama: {
          pools: [
            { pool: 'stable', weight: 9 },
            { pool: 'canary', weight: 1 },
          ],
        },
      },
    };
    expect(
      await new ReplaceModelRoutes(routes).execute({ table: canary, expectedGeneration: 1 }),
    ).toMatchObject({ kind: 'replaced', snapshot: { table: canary, generation: 2 } });
    expect(routes.current()).toBe(canary);
  });

  it('refuses a bad table, naming the field, and leaves the table in force', async () => {
    const routes = new FakeRoutes();
    const before = routes.current();
    const result = await new ReplaceModelRoutes(routes).execute({
      table: { models: { llama: { pools: [{ pool: 'stable', weight: Number.NaN }] } } },
      expectedGeneration: 0,
    });
    expect(result).toEqual({
      kind: 'invalid',
      problems: [
        { field: 'models["llama"].pools[0].weight', problem: 'NaN; use a number >= 0' },
        { field: 'models["llama"].pools', problem: 'no pool has a positive weight' },
      ],
    });
    expect(routes.current()).toBe(before);
    expect(routes.generation).toBe(1);
  });

  it('refuses a replace on top of a generation no longer in force', async () => {
    const routes = new FakeRoutes();
    routes.generation = 4;
    expect(
      await new ReplaceModelRoutes(routes).execute({
        table: routes.current(),
        expectedGeneration: 3,
      }),
    ).toEqual({ kind: 'stale-generation', expected: 3, current: 4 });
    expect(routes.generation).toBe(4);
  });
});
