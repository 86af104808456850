import type { routerAdmin, shard } from '@spillway/contracts';
import type { DomainError } from '@spillway/errors';
import { canarySplit, toProtoRouteTable } from '@spillway/model-routes';
import { waitFor } from '@spillway/testing';
import {
  collect,
  type ShardMetadataFixture,
  startShardMetadataFixture,
} from './support/shard-metadata.fixture.js';

const split = (stable: number, canary: number): routerAdmin.ModelRouteTable =>
  toProtoRouteTable(canarySplit('llama', stable, canary));

async function refusal(call: Promise<unknown>): Promise<DomainError> {
  try {
    await call;
  } catch (error) {
    return error as DomainError;
  }
  throw new Error('the call was not refused');
}

describe('shard-metadata shared model routes (in-process service, real PostgreSQL)', () => {
  let fixture: ShardMetadataFixture;

  beforeAll(async () => {
    fixture = await startShardMetadataFixture();
  });

  afterAll(async () => {
    await fixture?.cleanup();
  });

  const replace = (table: routerAdmin.ModelRouteTable, expectedGeneration: number, reason = 'it') =>
    fixture.client.replaceModelRoutes({ table, expectedGeneration, reason });

  it('holds no table until one is stored, then replaces it only on top of the generation read', async () => {
    expect((await fixture.client.getModelRoutes({})).routes).toMatchObject({
      generation: 0,
      table: { models: {} },
    });

    const first = await replace(split(9, 1), 0, 'canary 10%');
    expect(first).toMatchObject({
      applied: true,
      current: { generation: 1, table: split(9, 1), reason: 'canary 10%' },
    });

    const stale = await replace(split(1, 0), 5);
    expect(stale).toMatchObject({ applied: false, current: { generation: 1, table: split(9, 1) } });

    // Two writers on the same generation: the database lets exactly one through.
    const raced = await Promise.all([replace(split(1, 0), 1), replace(split(1, 1), 1)]);
    expect(raced.filter((answer) => answer.applied)).toHaveLength(1);
    const stored = (await fixture.client.getModelRoutes({})).routes;
    expect(stored?.generation).toBe(2);
    expect(stored?.table).toEqual(raced.find((answer) => answer.applied)?.current?.table);
  });

  it('refuses a table that breaks the routing rules with INVALID_ARGUMENT naming the field', async () => {
    const before = await fixture.client.getModelRoutes({});

    const negative = await refusal(
      replace(
        {
          models: {
            llama: {
              pools: [
                { pool: 'stable', weight: 1 },
                { pool: 'canary', weight: -1 },
              ],
              shadow: undefined,
            },
          },
        },
        0,
      ),
    );
    expect(negative.code).toBe('REQUEST.INVALID');
    expect(negative.message).toContain('table.models["llama"].pools[1].weight: -1');
    expect(negative.details).toMatchObject({ field: 'table.models["llama"].pools[1].weight' });

    const noTable = await refusal(
      fixture.client.replaceModelRoutes({ expectedGeneration: 0, reason: 'it' }),
    );
    expect(noTable.code).toBe('REQUEST.INVALID');
    expect(noTable.details).toMatchObject({ field: 'table' });

    expect(await fixture.client.getModelRoutes({})).toEqual(before);
  });

  it('pushes the table in force and then every replace to each watcher', async () => {
    const watches = [0, 1].map(() =>
      collect<shard.WatchModelRoutesResponse>((signal) =>
        fixture.client.watchModelRoutes({}, { signal }),
      ),
    );
    try {
      await waitFor(() => watches.every((watch) => watch.received.length === 1), {
        description: 'each watch to send the table in force',
      });
      const start = watches[0]!.received[0]!.routes!.generation;
      await replace(split(0, 1), start);
      await replace(split(1, 0), start + 1);
      await waitFor(() => watches.every((watch) => watch.received.length === 3), {
        description: 'each watch to deliver both replaces',
      });
      for (const watch of watches) {
        expect(watch.received.map((message) => message.routes?.generation)).toEqual([
          start,
          start + 1,
          start + 2,
        ]);
        expect(watch.received[2]?.routes?.table).toEqual(split(1, 0));
      }
    } finally {
      for (const watch of watches) await watch.stop();
    }
  });

  it('keeps the table and its generation across a restart', async () => {
    const before = (await fixture.client.getModelRoutes({})).routes;
    expect(before?.generation).toBeGreaterThan(0);
    await fixture.restart();
    expect((await fixture.client.getModelRoutes({})).routes).toEqual(before);
    const next = await replace(split(3, 1), before?.generation ?? 0);
    expect(next.current?.generation).toBe((before?.generation ?? 0) + 1);
  });
});
