// A real serving plane on 127.0.0.1 for the router's integration tests and benchmarks: the shard
// registry (Postgres), gpu-sim + inference-adapter pairs, router replicas, each a child process
// started from its built dist/ the way operators start it; plus a reference gpu-sim that answers
// "what is the deterministic reply to this history" through its public HTTP API.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chat, shard } from '@spillway/contracts';
import { ClientError, createGrpcClient, type GrpcClient } from '@spillway/grpc';
import {
  createTestDatabase,
  createTestTopics,
  freePort,
  repositoryRoot,
  serviceCommand,
  startChildProcess,
  testInfrastructure,
  waitFor,
  type ChildProcessHandle,
  type TestDatabase,
  type TestTopics,
} from '@spillway/testing';
import type { ModelRouteTable } from '../domain/index.js';

const PLANE_SERVICES = ['router', 'inference-adapter', 'shard-metadata', 'gpu-sim'] as const;

export type ChatClient = GrpcClient<typeof chat.ChatServiceDefinition>;
export type RegistryClient = GrpcClient<typeof shard.ShardRegistryDefinition>;

export interface GpuSimFault {
  readonly mode: 'none' | 'die' | 'hang' | 'slow' | 'error' | 'malformed';
  readonly afterTokens?: number;
  readonly factor?: number;
  readonly status?: 500 | 503;
}

export interface ShardSpec {
  readonly id: string;
  readonly pool: string;
  readonly zone?: string;
  readonly maxInFlight?: number;
  /** gpu-sim time scale: 1 is real time, 0.01 a hundred times faster. */
  readonly timeScale?: number;
  /** A gpu-sim profile id or path. */
  readonly profile?: string;
}

export interface PlaneShard {
  readonly spec: ShardSpec;
  readonly id: string;
  readonly gpuSimUrl: string;
  readonly adapterAddress: string;
  gpuSim: ChildProcessHandle;
  adapter: ChildProcessHandle;
  setFault(fault: GpuSimFault): Promise<void>;
  /** Sum of one gpu-sim metric's series on /metrics. */
  metric(name: string): Promise<number>;
  killGpuSim(): Promise<void>;
  killAdapter(): Promise<void>;
  /** Starts the engine again on its address (after a kill or a `die` fault). */
  restartGpuSim(): Promise<void>;
  /** Starts the adapter again on its address; it registers again and turns READY. */
  restartAdapter(): Promise<void>;
  /** SIGSTOP / SIGCONT the adapter: alive to TCP, silent to everyone (heartbeats stop). */
  pauseAdapter(): void;
  resumeAdapter(): void;
  stop(): Promise<void>;
}

export interface PlaneRouter {
  readonly address: string;
  readonly process: ChildProcessHandle;
  readonly client: ChatClient;
  /** SIGHUP, then waits for the router to log the reload. */
  reloadModelRoutes(): Promise<void>;
  stop(): Promise<void>;
}

export interface PlaneOptions {
  readonly shards: readonly ShardSpec[];
  /** Model name every shard serves. */
  readonly model?: string;
  readonly modelRoutes?: ModelRouteTable;
  readonly registryEnv?: Readonly<Record<string, string>>;
  readonly adapterEnv?: Readonly<Record<string, string>>;
  /** A private `requests` topic the routers publish usage records to. */
  readonly usageTopic?: boolean;
  /** Child output goes to this process's stderr as it arrives. */
  readonly verbose?: boolean;
}

export interface RouterPlane {
  readonly model: string;
  readonly registryAddress: string;
  readonly registryClient: RegistryClient;
  readonly shards: PlaneShard[];
  readonly routers: PlaneRouter[];
  readonly usageTopic: string | undefined;
  /** A consumer group id for the usage topic that close() deletes. */
  usageGroupId(): string;
  readonly modelRoutesFile: string;
  setModelRoutes(table: ModelRouteTable): void;
  startRouter(env?: Readonly<Record<string, string>>): Promise<PlaneRouter>;
  startShard(spec: ShardSpec): Promise<PlaneShard>;
  shard(id: string): PlaneShard;
  /** Waits until the registry reports each listed shard (default: all) in `state`. */
  waitForShardState(state: shard.ShardState, ids?: readonly string[]): Promise<void>;
  restartRegistry(): Promise<void>;
  /** The reply gpu-sim gives to this exact history (same seed), from the reference simulator. */
  referenceReply(messages: readonly ReferenceMessage[], maxTokens?: number): Promise<string>;
  /** The same, with the token counts the simulator reports. */
  referenceCompletion(
    messages: readonly ReferenceMessage[],
    maxTokens?: number,
  ): Promise<{ text: string; promptTokens: number; completionTokens: number }>;
  close(): Promise<void>;
}

export interface ReferenceMessage {
  readonly role: 'system' | 'user' | 'assistant' | 'tool';
  readonly content: string;
}

let built = false;

/** Children run from dist/: build them (and what they need) once per process. */
export function ensureBuilt(): void {
  if (built) return;
  built = true;
  const filters = PLANE_SERVICES.map((name) => `--filter=@spillway/${name}...`);
  try {
    execFileSync(
      'flock',
      ['/tmp/spillway-router-plane-build.lock', 'npx', 'turbo', 'run', 'build', ...filters],
      { cwd: repositoryRoot, stdio: ['ignore', 'ignore', 'pipe'] },
    );
  } catch (error) {
    const missing = PLANE_SERVICES.filter(
      (name) => !existsSync(`${repositoryRoot}services/${name}/dist/main.js`),
    );
    if (missing.length > 0) throw error;
    // Someone else's package is mid-edit: run on the dist/ that exists.
    process.stderr.write(`router-plane: build failed, using existing dist/: ${String(error)}\n`);
  }
}

const QUIET = { SPILLWAY_TRACE_EXPORTER: 'none' };

export async function startRouterPlane(options: PlaneOptions): Promise<RouterPlane> {
  ensureBuilt();
  const model = options.model ?? 'sim-llama';
  const scratch = mkdtempSync(join(tmpdir(), 'router-plane-'));
  const modelRoutesFile = join(scratch, 'model-routes.json');
  const pools = [...new Set(options.shards.map((spec) => spec.pool))];
  const setModelRoutes = (table: ModelRouteTable): void =>
    writeFileSync(modelRoutesFile, JSON.stringify(table, null, 2));
  setModelRoutes(
    options.modelRoutes ?? {
      models: { [model]: { pools: pools.map((pool) => ({ pool, weight: 1 })) } },
    },
  );

  const cleanups: (() => Promise<void>)[] = [];
  const database: TestDatabase = await createTestDatabase();
  cleanups.push(() => database.cleanup());
  const topics: TestTopics<'lifecycle' | 'requests'> = await createTestTopics({
    lifecycle: 1,
    requests: 3,
  });
  cleanups.push(() => topics.cleanup());

  const registryPort = await freePort();
  const registryAddress = `127.0.0.1:${registryPort}`;
  const startRegistry = (): Promise<ChildProcessHandle> =>
    startChildProcess({
      name: 'shard-metadata',
      ...serviceCommand('shard-metadata'),
      env: {
        ...QUIET,
        OTEL_SERVICE_NAME: 'shard-metadata',
        GRPC_PORT: String(registryPort),
        DATABASE_URL: database.url,
        DATABASE_CREATE_IF_MISSING: 'false',
        KAFKA_BROKERS: testInfrastructure.kafkaBrokers.join(','),
        SHARD_LIFECYCLE_TOPIC: topics.names.lifecycle,
        HEARTBEAT_INTERVAL_MS: '100',
        FAILURE_AFTER_MS: '600',
        RESTART_GRACE_MS: '3000',
        SHUTDOWN_GRACE_MS: '500',
        ...options.registryEnv,
      },
      readyWhen: (line) => line.includes('shard-metadata listening on'),
      timeoutMs: 30_000,
    });
  const referencePort = await freePort();
  const startingReference = startChildProcess({
    name: 'gpu-sim-reference',
    ...serviceCommand('gpu-sim', [
      '--port',
      String(referencePort),
      '--time-scale',
      '0.001',
      '--min-tick-ms',
      '0',
    ]),
    env: { ...QUIET, GPU_SIM_LOAD_TIME_MS: '0', GPU_SIM_MODEL_NAME: model },
    readyWhen: { url: `http://127.0.0.1:${referencePort}/health` },
  });
  let registry = await startRegistry();
  const reference = await startingReference;
  cleanups.push(async () => void (await reference.stop('SIGTERM', 1_000)));
  const registryClient: RegistryClient = createGrpcClient(
    shard.ShardRegistryDefinition,
    registryAddress,
    { defaultDeadlineMs: 5_000 },
  );

  const shards: PlaneShard[] = [];
  const routers: PlaneRouter[] = [];

  const startShard = async (spec: ShardSpec): Promise<PlaneShard> => {
    const simPort = await freePort();
    const adapterPort = await freePort();
    const gpuSimUrl = `http://127.0.0.1:${simPort}`;
    const launchSim = (): Promise<ChildProcessHandle> =>
      startChildProcess({
        name: `gpu-sim ${spec.id}`,
        ...serviceCommand('gpu-sim', [
          '--port',
          String(simPort),
          '--time-scale',
          String(spec.timeScale ?? 0.05),
          ...(spec.profile === undefined ? [] : ['--profile', spec.profile]),
        ]),
        env: {
          ...QUIET,
          GPU_SIM_LOAD_TIME_MS: '0',
          GPU_SIM_MODEL_NAME: model,
          GPU_SIM_SHUTDOWN_GRACE_MS: '500',
        },
        readyWhen: { url: `${gpuSimUrl}/health` },
      });
    const gpuSim = await launchSim();
    const launchAdapter = (): Promise<ChildProcessHandle> =>
      startChildProcess({
        name: `inference-adapter ${spec.id}`,
        ...serviceCommand('inference-adapter'),
        env: {
          ...QUIET,
          OTEL_SERVICE_NAME: 'inference-adapter',
          SHARD_ID: spec.id,
          POOL: spec.pool,
          MODEL: model,
          ZONE: spec.zone ?? 'local',
          ENGINE_URL: gpuSimUrl,
          ENGINE_KIND: 'vllm',
          GRPC_PORT: String(adapterPort),
          REGISTRY_ADDRESS: registryAddress,
          MAX_IN_FLIGHT_STREAMS: String(spec.maxInFlight ?? 32),
          LOAD_REPORT_INTERVAL_MS: '200',
          SHUTDOWN_GRACE_MS: '500',
          ...options.adapterEnv,
        },
        readyWhen: (line) => line.includes('serving Inference on'),
      });
    const adapter = await launchAdapter();
    const planeShard: PlaneShard = {
      spec,
      id: spec.id,
      gpuSimUrl,
      adapterAddress: `127.0.0.1:${adapterPort}`,
      gpuSim,
      adapter,
      async setFault(fault) {
        const response = await fetch(`${gpuSimUrl}/admin/faults`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(fault),
        });
        const body = await response.text();
        if (!response.ok) throw new Error(`gpu-sim ${spec.id} refused fault: ${body}`);
      },
      async metric(name) {
        const text = await (await fetch(`${gpuSimUrl}/metrics`)).text();
        return sumMetric(text, name);
      },
      async killGpuSim() {
        await planeShard.gpuSim.kill();
      },
      async killAdapter() {
        await planeShard.adapter.kill();
      },
      async restartGpuSim() {
        await planeShard.gpuSim.kill();
        planeShard.gpuSim = await launchSim();
      },
      async restartAdapter() {
        planeShard.resumeAdapter();
        await planeShard.adapter.kill();
        planeShard.adapter = await launchAdapter();
      },
      pauseAdapter() {
        process.kill(planeShard.adapter.pid, 'SIGSTOP');
      },
      resumeAdapter() {
        try {
          process.kill(planeShard.adapter.pid, 'SIGCONT');
        } catch {
          // Not running any more.
        }
      },
      async stop() {
        planeShard.resumeAdapter();
        await Promise.all([
          planeShard.adapter.stop('SIGTERM', 1_000),
          planeShard.gpuSim.stop('SIGTERM', 1_000),
        ]);
      },
    };
    shards.push(planeShard);
    return planeShard;
  };

  const startRouter = async (env: Readonly<Record<string, string>> = {}): Promise<PlaneRouter> => {
    const port = await freePort();
    const handle = await startChildProcess({
      name: `router ${routers.length + 1}`,
      ...serviceCommand('router'),
      env: {
        ...QUIET,
        OTEL_SERVICE_NAME: 'router',
        GRPC_PORT: String(port),
        REGISTRY_ADDRESS: registryAddress,
        MODEL_ROUTES_FILE: modelRoutesFile,
        WATCH_BACKOFF_MAX_MS: '1000',
        SHUTDOWN_GRACE_MS: '1000',
        ...(options.usageTopic === true
          ? {
              KAFKA_BROKERS: testInfrastructure.kafkaBrokers.join(','),
              REQUESTS_TOPIC: topics.names.requests,
            }
          : {}),
        ...env,
      },
      readyWhen: (line) => line.includes('router listening on'),
    });
    const address = `127.0.0.1:${port}`;
    const client: ChatClient = createGrpcClient(chat.ChatServiceDefinition, address, {
      defaultDeadlineMs: 120_000,
    });
    const router: PlaneRouter = {
      address,
      process: handle,
      client,
      async reloadModelRoutes() {
        const reloads = (): number =>
          handle.output().filter((line) => line.includes('model routes reloaded')).length;
        const before = reloads();
        process.kill(handle.pid, 'SIGHUP');
        await waitFor(() => reloads() > before, {
          description: `router ${address} to reload its model routes`,
          timeoutMs: 5_000,
        });
      },
      async stop() {
        client.close();
        await handle.stop('SIGTERM', 3_000);
      },
    };
    routers.push(router);
    return router;
  };

  const plane: RouterPlane = {
    model,
    registryAddress,
    registryClient,
    shards,
    routers,
    usageTopic: options.usageTopic === true ? topics.names.requests : undefined,
    usageGroupId: () => topics.groupId('usage'),
    modelRoutesFile,
    setModelRoutes,
    startRouter,
    startShard,
    shard(id) {
      const found = shards.find((candidate) => candidate.id === id);
      if (found === undefined) throw new Error(`no shard ${id} in the plane`);
      return found;
    },
    async waitForShardState(state, ids) {
      const wanted = ids ?? shards.map((s) => s.id);
      await waitFor(
        async () => {
          const { shards: listed } = await registryClient.listShards({
            pool: '',
            includeRemoved: true,
          });
          return wanted.every((id) => listed.some((s) => s.shardId === id && s.state === state));
        },
        {
          description: `shards ${wanted.join(', ')} to be ${shard.ShardState[state]}`,
          timeoutMs: 20_000,
          intervalMs: 50,
        },
      );
    },
    async restartRegistry() {
      await registry.stop('SIGTERM', 2_000);
      registry = await startRegistry();
    },
    async referenceReply(messages, maxTokens) {
      return (await plane.referenceCompletion(messages, maxTokens)).text;
    },
    async referenceCompletion(messages, maxTokens) {
      const response = await fetch(`http://127.0.0.1:${referencePort}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model,
          messages,
          stream: false,
          ...(maxTokens === undefined ? {} : { max_tokens: maxTokens }),
        }),
      });
      if (!response.ok)
        throw new Error(`reference gpu-sim: ${response.status} ${await response.text()}`);
      const body = (await response.json()) as {
        choices: { message: { content: string } }[];
        usage: { prompt_tokens: number; completion_tokens: number };
      };
      return {
        text: body.choices[0]?.message.content ?? '',
        promptTokens: body.usage.prompt_tokens,
        completionTokens: body.usage.completion_tokens,
      };
    },
    async close() {
      for (const router of routers) await router.stop().catch(() => undefined);
      for (const planeShard of shards) await planeShard.stop().catch(() => undefined);
      registryClient.close();
      await registry.stop('SIGTERM', 2_000).catch(() => undefined);
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
      rmSync(scratch, { recursive: true, force: true });
    },
  };

  try {
    await Promise.all(options.shards.map((spec) => startShard(spec)));
    await plane.waitForShardState(shard.ShardState.SHARD_STATE_READY);
  } catch (error) {
    await plane.close();
    throw error;
  }
  if (options.verbose === true) {
    process.stderr.write(`router-plane: registry ${registryAddress}, ${shards.length} shards\n`);
  }
  return plane;
}

/** Sum of every series of `name` in a Prometheus text exposition. */
export function sumMetric(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) sum += value;
  }
  return sum;
}

/** The gRPC error a call was refused with; fails when the call succeeds or fails otherwise. */
export async function refusal(call: Promise<unknown>): Promise<ClientError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof ClientError) return error;
    throw error;
  }
  throw new Error('the call was not refused');
}
