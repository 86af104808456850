import { chat, common, shard } from '@spillway/contracts';
import { createGrpcClient, type GrpcClient } from '@spillway/grpc';
import { silentLogger } from '@spillway/messaging';
import {
  createTestDatabase,
  createTestTopics,
  freePort,
  serviceCommand,
  startChildProcess,
  testInfrastructure,
  waitFor,
  type ChildProcessHandle,
  type TestDatabase,
  type TestTopics,
} from '@spillway/testing';
import { aShard, type RegistryClient } from './support/shard-metadata.fixture.js';

// Two registries on one database, each a child process from its built dist/ as operators start
// them, with a real adapter (gpu-sim behind it) and a router that both follow the two addresses.
// The leader is SIGKILLed: the standby takes over with the stored registry, the router goes on
// placing turns, the adapter's shard stays READY, a shard that really went silent is still failed,
// and the killed registry, started again, stands by.

const MODEL = 'sim-llama';
const POOL = 'pool-standby';
const QUIET = { SPILLWAY_TRACE_EXPORTER: 'none' };
const LISTENING = 'shard-metadata listening on';
const STANDING_BY = 'shard-metadata standing by';

type ChatClient = GrpcClient<typeof chat.ChatServiceDefinition>;

/** One stateless turn of `conversationId`, read to the end; the shard that finished it. */
async function converse(client: ChatClient, conversationId: string): Promise<string> {
  let completed: chat.TurnCompleted | undefined;
  for await (const response of client.converse({
    tenantId: 'tenant-1',
    conversationId,
    messages: [{ role: common.Role.ROLE_USER, content: `Hello from ${conversationId}`, name: '' }],
    sampling: { maxTokens: 8, stop: [] },
    priority: common.Priority.PRIORITY_STANDARD,
    idempotencyKey: '',
    ttftBudgetMs: 0,
    stateless: true,
    model: MODEL,
    endUser: '',
  })) {
    if (response.event?.$case === 'completed') completed = response.event.value;
  }
  if (completed === undefined) throw new Error(`turn of ${conversationId} did not complete`);
  return completed.shardId;
}

describe('shard-metadata active–standby (child processes)', () => {
  let database: TestDatabase;
  let topics: TestTopics<'lifecycle'>;
  const children: ChildProcessHandle[] = [];
  const clients: { close(): void }[] = [];
  let registryPorts: [number, number];
  let registries: ChildProcessHandle[];

  const startRegistry = async (port: number, ready: string): Promise<ChildProcessHandle> => {
    const child = await startChildProcess({
      name: `shard-metadata :${port}`,
      ...serviceCommand('shard-metadata'),
      env: {
        ...QUIET,
        GRPC_PORT: String(port),
        DATABASE_URL: database.url,
        DATABASE_CREATE_IF_MISSING: 'false',
        KAFKA_BROKERS: testInfrastructure.kafkaBrokers.join(','),
        SHARD_LIFECYCLE_TOPIC: topics.names.lifecycle,
        HEARTBEAT_INTERVAL_MS: '100',
        FAILURE_AFTER_MS: '1000',
        RESTART_GRACE_MS: '3000',
        SHUTDOWN_GRACE_MS: '500',
        LEADER_RETRY_MS: '200',
      },
      readyWhen: (line) => line.startsWith(ready),
      timeoutMs: 60_000,
    });
    children.push(child);
    return child;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    topics = await createTestTopics({ lifecycle: 1 }, { logger: silentLogger });
    registryPorts = [await freePort(), await freePort()];
  }, 60_000);

  afterAll(async () => {
    for (const client of clients) client.close();
    await Promise.all(children.map((child) => child.stop('SIGTERM', 2_000)));
    await topics?.cleanup();
    await database?.cleanup();
  }, 60_000);

  it('takes over when the leader is killed: turns, pins, heartbeats and failure detection go on', async () => {
    const [firstPort, secondPort] = registryPorts;
    const addresses = `127.0.0.1:${firstPort},127.0.0.1:${secondPort}`;
    registries = [await startRegistry(firstPort, LISTENING)];
    registries.push(await startRegistry(secondPort, STANDING_BY));
    const registry: RegistryClient = createGrpcClient(shard.ShardRegistryDefinition, addresses, {
      defaultDeadlineMs: 5_000,
    });
    clients.push(registry);

    // One real shard: gpu-sim and its adapter, registered through the address list.
    const simPort = await freePort();
    const gpuSim = await startChildProcess({
      name: 'gpu-sim',
      ...serviceCommand('gpu-sim', ['--port', String(simPort), '--time-scale', '0.02']),
      env: { ...QUIET, GPU_SIM_LOAD_TIME_MS: '0', GPU_SIM_MODEL_NAME: MODEL },
      readyWhen: { url: `http://127.0.0.1:${simPort}/health` },
    });
    children.push(gpuSim);
    const adapter = await startChildProcess({
      name: 'inference-adapter',
      ...serviceCommand('inference-adapter'),
      env: {
        ...QUIET,
        SHARD_ID: 'shard-standby-a',
        POOL,
        MODEL,
        ENGINE_URL: `http://127.0.0.1:${simPort}`,
        ENGINE_KIND: 'vllm',
        GRPC_PORT: String(await freePort()),
        REGISTRY_ADDRESS: addresses,
        SHUTDOWN_GRACE_MS: '500',
      },
      readyWhen: (line) => line.includes('serving Inference on'),
    });
    children.push(adapter);
    const stateOf = async (shardId: string) => {
      const { shards } = await registry.listShards({ pool: '', includeRemoved: true });
      return shards.find((candidate) => candidate.shardId === shardId);
    };
    await waitFor(
      async () => (await stateOf('shard-standby-a'))?.state === shard.ShardState.SHARD_STATE_READY,
      { description: 'the adapter shard to be READY', timeoutMs: 30_000 },
    );

    // A second shard, beaten for by this test, which stops beating after the takeover. Its
    // endpoint refuses connections, so the failure detector's probe does not keep it.
    const silent = aShard({
      pool: 'pool-silent',
      model: 'other-model',
      endpoint: `127.0.0.1:${await freePort()}`,
    });
    await registry.registerShard({ shard: silent });
    let beating = true;
    const beats = (async () => {
      for (let beat = 0; beat < 3_000 && beating; beat++) {
        await registry.heartbeat({ shardId: silent.shardId, ready: true }).catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    await waitFor(
      async () => (await stateOf(silent.shardId))?.state === shard.ShardState.SHARD_STATE_READY,
      { description: 'the test-driven shard to be READY', timeoutMs: 30_000 },
    );

    const routerPort = await freePort();
    const router = await startChildProcess({
      name: 'router',
      ...serviceCommand('router'),
      env: {
        ...QUIET,
        GRPC_PORT: String(routerPort),
        REGISTRY_ADDRESS: addresses,
        WATCH_BACKOFF_MAX_MS: '1000',
        SHUTDOWN_GRACE_MS: '1000',
      },
      readyWhen: (line) => line.includes('router listening on'),
    });
    children.push(router);
    const chatClient: ChatClient = createGrpcClient(
      chat.ChatServiceDefinition,
      `127.0.0.1:${routerPort}`,
      { defaultDeadlineMs: 30_000 },
    );
    clients.push(chatClient);

    // Before the kill: a turn pins its conversation (the router's compare-and-set).
    expect(await converse(chatClient, 'conv-before')).toBe('shard-standby-a');
    const before = await registry.getAssignment({ conversationId: 'conv-before' });
    expect(before.assignment?.shardId).toBe('shard-standby-a');

    await registries[0]!.kill();
    await waitFor(() => registries[1]!.output().some((line) => line.startsWith(LISTENING)), {
      description: 'the standby to take over',
      timeoutMs: 30_000,
    });
    const takeoverAtMs = Date.now();

    // The pin made before the kill is in force at the new leader: same shard, same version, and a
    // compare-and-set against the version before it is stale.
    const after = await waitFor(() => registry.getAssignment({ conversationId: 'conv-before' }), {
      description: 'the new leader to answer',
      timeoutMs: 30_000,
    });
    expect(after.assignment).toMatchObject({
      shardId: 'shard-standby-a',
      version: before.assignment!.version,
    });
    const stale = await registry.compareAndSetAssignment({
      conversationId: 'conv-before',
      tenantId: 'tenant-1',
      shardId: 'shard-standby-a',
      expectedVersion: 0,
      reason: 'placed',
    });
    expect(stale).toMatchObject({
      applied: false,
      current: { version: before.assignment!.version },
    });

    // The router, following both addresses, still places turns: a new conversation (pinned at the
    // new leader) and the one pinned before.
    await waitFor(() => converse(chatClient, 'conv-after'), {
      description: 'the router to place a turn after the takeover',
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    expect(await converse(chatClient, 'conv-before')).toBe('shard-standby-a');
    const pinnedAfter = await registry.getAssignment({ conversationId: 'conv-after' });
    expect(pinnedAfter.assignment?.shardId).toBe('shard-standby-a');

    // The adapter's heartbeats reach the new leader; the takeover failed no healthy shard.
    await waitFor(
      async () => ((await stateOf('shard-standby-a'))?.lastHeartbeatAtMs ?? 0) > takeoverAtMs,
      { description: 'an adapter heartbeat at the new leader', timeoutMs: 30_000 },
    );
    expect((await stateOf('shard-standby-a'))?.state).toBe(shard.ShardState.SHARD_STATE_READY);

    // A shard that really stops heartbeating is still failed by the new leader.
    beating = false;
    await beats;
    await waitFor(
      async () => (await stateOf(silent.shardId))?.state === shard.ShardState.SHARD_STATE_FAILED,
      { description: 'the silent shard to be failed after the takeover', timeoutMs: 30_000 },
    );
    expect((await stateOf('shard-standby-a'))?.state).toBe(shard.ShardState.SHARD_STATE_READY);

    // The killed registry, started again, stands by (it does not listen beside the leader).
    registries[0] = await startRegistry(firstPort, STANDING_BY);
    expect(registries[0].output().some((line) => line.startsWith(LISTENING))).toBe(false);
    expect(await converse(chatClient, 'conv-after')).toBe('shard-standby-a');
  }, 240_000);
});
