import { execFileSync } from 'node:child_process';
import { chat, routerAdmin } from '@spillway/contracts';
import { createGrpcClient, Status, type GrpcClient } from '@spillway/grpc';
import {
  freePort,
  serviceCommand,
  startChildProcess,
  waitFor,
  type ChildProcessHandle,
} from '@spillway/testing';
import { canarySplit, toProtoRouteTable } from '@spillway/model-routes';
import { refusal, startRouterPlane, type RouterPlane } from '../src/testing/router-plane.js';
import { poolOfNextTurn } from '../src/testing/turns.js';

// Model routes every router replica shares through the shard registry: the registry on Postgres,
// one shard in pool "stable" and one in pool "canary", and two router replicas (child processes
// from dist/, started as operators start them: no MODEL_ROUTES, no MODEL_ROUTES_FILE) that follow
// the registry's table. Tests run in order and share the plane.

type AdminClient = GrpcClient<typeof routerAdmin.RouterAdminDefinition>;

interface Replica {
  readonly name: string;
  readonly process: ChildProcessHandle;
  readonly chat: GrpcClient<typeof chat.ChatServiceDefinition>;
  /** Raw gRPC statuses: what an operator's tool sees. */
  readonly admin: AdminClient;
  stop(): Promise<void>;
}

let plane: RouterPlane;
let a: Replica;
let b: Replica;

async function startReplica(name: string): Promise<Replica> {
  const port = await freePort();
  const handle = await startChildProcess({
    name: `router ${name}`,
    ...serviceCommand('router'),
    env: {
      SPILLWAY_TRACE_EXPORTER: 'none',
      OTEL_SERVICE_NAME: 'router',
      GRPC_PORT: String(port),
      REGISTRY_ADDRESS: plane.registryAddress,
      WATCH_BACKOFF_INITIAL_MS: '50',
      WATCH_BACKOFF_MAX_MS: '500',
      SHUTDOWN_GRACE_MS: '1000',
    },
    readyWhen: (line) => line.includes('router listening on'),
  });
  const address = `127.0.0.1:${port}`;
  const chatClient = createGrpcClient(chat.ChatServiceDefinition, address, {
    defaultDeadlineMs: 60_000,
  });
  const admin = createGrpcClient(routerAdmin.RouterAdminDefinition, address, {
    defaultDeadlineMs: 10_000,
    translateErrors: false,
  });
  return {
    name,
    process: handle,
    chat: chatClient,
    admin,
    async stop() {
      chatClient.close();
      admin.close();
      await handle.stop('SIGTERM', 3_000);
    },
  };
}

/** Waits (bounded) until `replica` reports `generation` in force, and returns what it reports. */
function inForce(replica: Replica, generation: number) {
  return waitFor(
    async () => {
      const routes = await replica.admin.getModelRoutes({});
      return routes.generation === generation && routes;
    },
    {
      description: `router ${replica.name} to route on generation ${generation}`,
      timeoutMs: 15_000,
    },
  );
}

beforeAll(async () => {
  plane = await startRouterPlane({
    shards: [
      { id: 'stable-1', pool: 'stable', maxInFlight: 4 },
      { id: 'canary-1', pool: 'canary', maxInFlight: 4 },
    ],
  });
  [a, b] = await Promise.all([startReplica('A'), startReplica('B')]);
}, 300_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()].map((stopping) => stopping?.catch(() => undefined)));
  await plane?.close();
}, 60_000);

describe('model routes shared through the shard registry', () => {
  it('derives the table from the shards until one is stored; a replace through A is in force on B', async () => {
    for (const replica of [a, b]) {
      const routes = await replica.admin.getModelRoutes({});
      expect(routes.generation).toBe(0);
      expect(routes.source).toContain('derived from the pools the shards serve');
      expect(routes.table?.models[plane.model]?.pools).toEqual([
        { pool: 'canary', weight: 1 },
        { pool: 'stable', weight: 1 },
      ]);
    }

    const stableOnly = await a.admin.replaceModelRoutes({
      table: toProtoRouteTable(canarySplit(plane.model, 1, 0)),
      expectedGeneration: 0,
    });
    expect(stableOnly.generation).toBe(1);
    // A routes on it at once; B as soon as its watch delivers it.
    expect(await poolOfNextTurn(plane, a.chat, 'shared-1')).toBe('stable');
    const onB = await inForce(b, 1);
    expect(onB.source).toBe('shared, following the shard registry');
    expect(onB.table?.models[plane.model]?.pools).toEqual([
      { pool: 'stable', weight: 1 },
      { pool: 'canary', weight: 0 },
    ]);
    expect(await poolOfNextTurn(plane, b.chat, 'shared-1')).toBe('stable');

    // The operator moves everyone to the canary through B; A follows.
    const canaryOnly = await b.admin.replaceModelRoutes({
      table: toProtoRouteTable(canarySplit(plane.model, 0, 1)),
      expectedGeneration: 1,
    });
    expect(canaryOnly.generation).toBe(2);
    await inForce(a, 2);
    expect(await poolOfNextTurn(plane, a.chat, 'shared-1')).toBe('canary');
    expect(await poolOfNextTurn(plane, b.chat, 'shared-2')).toBe('canary');
  }, 120_000);

  it('refuses a replace on a stale shared generation with ABORTED on either replica', async () => {
    for (const replica of [a, b]) {
      const stale = await refusal(
        replica.admin.replaceModelRoutes({
          table: toProtoRouteTable(canarySplit(plane.model, 1, 0)),
          expectedGeneration: 1,
        }),
      );
      expect(stale.code).toBe(Status.ABORTED);
      expect(stale.details).toContain('generation 2 is in force, not 1');
    }
    for (const replica of [a, b])
      expect(await replica.admin.getModelRoutes({})).toMatchObject({ generation: 2 });
  }, 60_000);

  it('refuses an invalid table with INVALID_ARGUMENT naming the field; the table in force stays', async () => {
    const before = await b.admin.getModelRoutes({});
    const negative = await refusal(
      a.admin.replaceModelRoutes({
        table: {
          models: {
            [plane.model]: {
              pools: [
                { pool: 'stable', weight: 1 },
                { pool: 'canary', weight: -1 },
              ],
              shadow: undefined,
            },
          },
        },
        expectedGeneration: 2,
      }),
    );
    expect(negative.code).toBe(Status.INVALID_ARGUMENT);
    expect(negative.details).toContain(`table.models["${plane.model}"].pools[1].weight`);

    for (const replica of [a, b]) expect(await replica.admin.getModelRoutes({})).toEqual(before);
    expect(await poolOfNextTurn(plane, a.chat, 'shared-3')).toBe('canary');
  }, 60_000);

  it('a restarted router rebuilds the table from the registry', async () => {
    await a.stop();
    a = await startReplica('A2');
    // Start-up waits for the registry's table before the first turn.
    expect(await a.admin.getModelRoutes({})).toMatchObject({
      generation: 2,
      source: 'shared, following the shard registry',
    });
    expect(await poolOfNextTurn(plane, a.chat, 'shared-1')).toBe('canary');
  }, 120_000);

  it('routers keep routing on their last table while the registry is down, and follow it again once back', async () => {
    // Kill the registry outright (its connections drop, as in a crash): the plane's registry is
    // the only shard-metadata child of this test process.
    const registryPid = Number(
      execFileSync('pgrep', ['-P', String(process.pid), '-f', 'shard-metadata/dist/main.js'], {
        encoding: 'utf8',
      }).trim(),
    );
    expect(Number.isInteger(registryPid)).toBe(true);
    process.kill(registryPid, 'SIGKILL');

    for (const replica of [a, b]) {
      const routes = await waitFor(
        async () => {
          const seen = await replica.admin.getModelRoutes({});
          return seen.source.includes('unreachable') && seen;
        },
        { description: `router ${replica.name} to notice the registry is gone`, timeoutMs: 15_000 },
      );
      expect(routes.generation).toBe(2);
      expect(routes.table?.models[plane.model]?.pools).toEqual([
        { pool: 'stable', weight: 0 },
        { pool: 'canary', weight: 1 },
      ]);
      expect(
        replica.process
          .output()
          .some((line) =>
            line.includes(
              'model routes: the shard registry is unreachable; routing on the last table it sent',
            ),
          ),
      ).toBe(true);
    }
    // The shards still serve: a new conversation goes to the canary pool on both replicas.
    expect(await poolOfNextTurn(plane, a.chat, 'shared-outage-a')).toBe('canary');
    expect(await poolOfNextTurn(plane, b.chat, 'shared-outage-b')).toBe('canary');

    // A write while the registry is down changes nothing anywhere.
    const down = await refusal(
      b.admin.replaceModelRoutes({
        table: toProtoRouteTable(canarySplit(plane.model, 1, 0)),
        expectedGeneration: 2,
      }),
    );
    expect(down.code).toBe(Status.UNAVAILABLE);
    expect(down.details).toContain('the shard registry');

    await plane.restartRegistry();
    for (const replica of [a, b]) {
      await waitFor(
        async () => {
          const seen = await replica.admin.getModelRoutes({});
          return seen.source === 'shared, following the shard registry' && seen.generation === 2;
        },
        { description: `router ${replica.name} to follow the registry again`, timeoutMs: 20_000 },
      );
    }
    // And a rollback through either replica reaches both again.
    await a.admin.replaceModelRoutes({
      table: toProtoRouteTable(canarySplit(plane.model, 1, 0)),
      expectedGeneration: 2,
    });
    await inForce(b, 3);
    expect(await poolOfNextTurn(plane, b.chat, 'shared-1')).toBe('stable');
  }, 180_000);
});
