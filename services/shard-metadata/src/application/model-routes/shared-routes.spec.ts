import { canarySplit } from '@spillway/model-routes';
import { FakeClock, FakeModelRoutesRepository } from '../../../test/support/fakes.js';
import type { SharedModelRoutes } from '../../domain/model-routes.js';
import { InMemoryChangeFeed } from '../change-feed/in-memory-change-feed.js';
import { ReplaceModelRoutesUseCase } from '../replace-model-routes/replace-model-routes.use-case.js';
import { WatchModelRoutesQuery } from '../watch-model-routes/watch-model-routes.query.js';
import { SharedRoutes } from './shared-routes.js';

async function sharedRoutes(stored?: SharedModelRoutes) {
  const repository = new FakeModelRoutesRepository(stored);
  const routes = new SharedRoutes(
    repository,
    new FakeClock(),
    new InMemoryChangeFeed<SharedModelRoutes>(),
  );
  await routes.load();
  return { repository, routes, replace: new ReplaceModelRoutesUseCase(routes) };
}

describe('shared model routes in the registry', () => {
  it('stores a valid table with the next generation, on top of the generation the writer read', async () => {
    const { routes, replace } = await sharedRoutes();
    expect(routes.current()).toMatchObject({ generation: 0, table: { models: {} } });

    const first = await replace.execute({
      table: canarySplit('llama', 9, 1),
      expectedGeneration: 0,
      reason: 'r1',
    });
    expect(first).toMatchObject({
      applied: true,
      current: { table: canarySplit('llama', 9, 1), generation: 1 },
    });

    const stale = await replace.execute({
      table: canarySplit('llama', 1, 0),
      expectedGeneration: 0 + 3,
      reason: 'r2',
    });
    expect(stale).toMatchObject({
      applied: false,
      current: { table: canarySplit('llama', 9, 1), generation: 1 },
    });

    const rollback = await replace.execute({
      table: canarySplit('llama', 1, 0),
      expectedGeneration: 1,
      reason: 'r3',
    });
    expect(rollback).toMatchObject({ applied: true, current: { generation: 2, reason: 'r3' } });
    expect(routes.current()).toMatchObject({ table: canarySplit('llama', 1, 0), generation: 2 });
  });

  it('refuses a table that breaks the routing rules, naming the field, and stores nothing', async () => {
    const { repository, replace } = await sharedRoutes();
    const refusal = replace.execute({
      table: {
        models: {
          llama: {
            pools: [{ pool: 'stable', weight: -1 }],
            shadow: { pool: 'stable', sampleRate: 0.5 },
          },
        },
      },
      expectedGeneration: 0,
      reason: 'bad',
    });
    await expect(refusal).rejects.toMatchObject({
      code: 'REQUEST.INVALID',
      message: expect.stringContaining(
        'table.models["llama"].pools[0].weight: -1; use a number >= 0',
      ),
      details: { field: 'table.models["llama"].pools[0].weight', problems: 3 },
    });
    expect(repository.stored.generation).toBe(0);
  });

  it('watches: the table in force first, then every table stored after, in generation order', async () => {
    const { routes, replace } = await sharedRoutes({
      table: canarySplit('llama', 1, 0),
      generation: 4,
      updatedAtMs: 1,
      reason: 'earlier',
    });
    const controller = new AbortController();
    const seen: number[] = [];
    for await (const message of new WatchModelRoutesQuery(routes, 10).execute(controller.signal)) {
      seen.push(message.generation);
      if (seen.length === 1) {
        await replace.execute({
          table: canarySplit('llama', 9, 1),
          expectedGeneration: 4,
          reason: 'canary',
        });
        await replace.execute({
          table: canarySplit('llama', 1, 0),
          expectedGeneration: 5,
          reason: 'rollback',
        });
      }
      if (seen.length === 3) controller.abort();
    }
    expect(seen).toEqual([4, 5, 6]);
  });

  it('never goes back to an older generation when answers arrive out of order', async () => {
    const { routes } = await sharedRoutes();
    const feed: SharedModelRoutes[] = [];
    const repository = new FakeModelRoutesRepository();
    const ordered = new SharedRoutes(repository, new FakeClock(), {
      publish: (change) => void feed.push(change),
      subscribe: () => {
        throw new Error('not used');
      },
      subscriberCount: 0,
      close: () => undefined,
    });
    await ordered.load();
    repository.stored = {
      table: canarySplit('llama', 0, 1),
      generation: 8,
      updatedAtMs: 2,
      reason: 'newer',
    };
    // A writer that lost the race learns the stored table: memory follows it.
    await ordered.compareAndSet({
      table: canarySplit('llama', 1, 0),
      expectedGeneration: 3,
      reason: 'late',
    });
    expect(ordered.current().generation).toBe(8);
    expect(feed.map((routes) => routes.generation)).toEqual([8]);
    expect(routes.current().generation).toBe(0);
  });
});
