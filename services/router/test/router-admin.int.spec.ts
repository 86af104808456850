import { routerAdmin } from '@spillway/contracts';
import { createGrpcClient, Status, type GrpcClient } from '@spillway/grpc';
import { canarySplit, toProtoRouteTable } from '@spillway/model-routes';
import {
  refusal,
  startRouterPlane,
  type PlaneRouter,
  type RouterPlane,
} from '../src/testing/router-plane.js';
import { poolOfNextTurn } from '../src/testing/turns.js';

// The router's admin API through a real gRPC client on the router's own server: one router (a
// child process), one shard in pool "stable" and one in pool "canary".
let plane: RouterPlane;
let router: PlaneRouter;
let admin: GrpcClient<typeof routerAdmin.RouterAdminDefinition>;

beforeAll(async () => {
  plane = await startRouterPlane({
    shards: [
      { id: 'stable-1', pool: 'stable', maxInFlight: 4 },
      { id: 'canary-1', pool: 'canary', maxInFlight: 4 },
    ],
    modelRoutes: canarySplit('sim-llama', 1, 0),
  });
  router = await plane.startRouter({ RANDOM_SEED: '3' });
  // Raw gRPC statuses: what an operator's tool sees.
  admin = createGrpcClient(routerAdmin.RouterAdminDefinition, router.address, {
    defaultDeadlineMs: 10_000,
    translateErrors: false,
  });
}, 300_000);

afterAll(async () => {
  admin?.close();
  await plane?.close();
}, 60_000);

describe('router admin API', () => {
  it('reports the routes in force and swaps a new table in at once, without a SIGHUP', async () => {
    const before = await admin.getModelRoutes({});
    expect(before).toMatchObject({ generation: 1, source: plane.modelRoutesFile });
    expect(before.table?.models[plane.model]?.pools).toEqual([
      { pool: 'stable', weight: 1 },
      { pool: 'canary', weight: 0 },
    ]);
    expect(await poolOfNextTurn(plane, router.client, 'admin-1')).toBe('stable');

    const replaced = await admin.replaceModelRoutes({
      table: {
        models: {
          [plane.model]: {
            pools: [
              { pool: 'stable', weight: 0 },
              { pool: 'canary', weight: 1 },
            ],
            shadow: { pool: 'shadow', sampleRate: 0 },
          },
        },
      },
      expectedGeneration: before.generation,
    });
    expect(replaced.generation).toBe(2);

    // The very next turn follows the new table: the conversation moves to the canary pool.
    expect(await poolOfNextTurn(plane, router.client, 'admin-1')).toBe('canary');
    const after = await admin.getModelRoutes({});
    expect(after).toMatchObject({ generation: 2, source: 'admin' });
    expect(after.table?.models[plane.model]).toEqual({
      pools: [
        { pool: 'stable', weight: 0 },
        { pool: 'canary', weight: 1 },
      ],
      shadow: { pool: 'shadow', sampleRate: 0 },
    });
  }, 120_000);

  it('refuses a bad table with INVALID_ARGUMENT naming the bad field, and changes nothing', async () => {
    const before = await admin.getModelRoutes({});

    const negative = await refusal(
      admin.replaceModelRoutes({
        table: {
          models: {
            [plane.model]: {
              pools: [
                { pool: 'stable', weight: 1 },
                { pool: 'canary', weight: -1 },
              ],
            },
          },
        },
        expectedGeneration: 0,
      }),
    );
    expect(negative.code).toBe(Status.INVALID_ARGUMENT);
    expect(negative.details).toContain(`table.models["${plane.model}"].pools[1].weight`);

    const shadowServes = await refusal(
      admin.replaceModelRoutes({
        table: {
          models: {
            [plane.model]: {
              pools: [{ pool: 'stable', weight: 1 }],
              shadow: { pool: 'stable', sampleRate: 0.5 },
            },
          },
        },
        expectedGeneration: 0,
      }),
    );
    expect(shadowServes.code).toBe(Status.INVALID_ARGUMENT);
    expect(shadowServes.details).toContain(`table.models["${plane.model}"].shadow.pool`);

    const noTable = await refusal(admin.replaceModelRoutes({ expectedGeneration: 0 }));
    expect(noTable.code).toBe(Status.INVALID_ARGUMENT);
    expect(noTable.details).toContain('table');

    expect(await admin.getModelRoutes({})).toEqual(before);
    expect(await poolOfNextTurn(plane, router.client, 'admin-2')).toBe('canary');
  }, 120_000);

  it('refuses a replace on top of a generation no longer in force (ABORTED), changing nothing', async () => {
    const before = await admin.getModelRoutes({});
    const stale = await refusal(
      admin.replaceModelRoutes({
        table: toProtoRouteTable(canarySplit(plane.model, 1, 0)),
        expectedGeneration: before.generation - 1,
      }),
    );
    expect(stale.code).toBe(Status.ABORTED);
    expect(await admin.getModelRoutes({})).toEqual(before);
  }, 60_000);

  it('gives way to the routes file again on SIGHUP', async () => {
    await router.reloadModelRoutes();
    const reloaded = await admin.getModelRoutes({});
    expect(reloaded).toMatchObject({ generation: 3, source: plane.modelRoutesFile });
    expect(await poolOfNextTurn(plane, router.client, 'admin-1')).toBe('stable');
  }, 120_000);
});
