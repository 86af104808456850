import { fileURLToPath } from 'node:url';
import { startChildProcess, type ChildProcessHandle } from '@spillway/testing';

const root = fileURLToPath(new URL('../../..', import.meta.url));

export interface KillableShard {
  readonly shardId: string;
  /** SIGKILL to the simulated GPU and its adapter at once: the shard crashes. */
  kill(): Promise<void>;
  /** Stops whatever is still running (for afterAll). */
  stop(): Promise<void>;
}

export interface KillableShardOptions {
  /** The shard's index as scripts/system.mjs counts: 2 is shard-c, on ports 8102 and 50063. */
  readonly index: number;
  /** The running system's SPILLWAY_PORT_OFFSET. */
  readonly portOffset: number;
  readonly timeScale: string;
  readonly modelLoadMs: string;
}

/**
 * One more shard of a system started with scripts/start.mjs, started the way scripts/system.mjs
 * starts shard `index` (same binaries, variables and ports) but owned by the test: start.mjs stops
 * the whole system when one of its children dies, so a shard the test means to kill cannot be one
 * of them.
 */
export async function startKillableShard(options: KillableShardOptions): Promise<KillableShard> {
  const { index, portOffset } = options;
  const shardId = `shard-${String.fromCharCode(97 + index)}`;
  const gpuSimPort = 8100 + portOffset + index;
  const node = (main: string): { command: string; args: string[] } => ({
    command: process.execPath,
    args: ['--max-semi-space-size=2', '--import', '@spillway/telemetry/register', main],
  });
  const started: ChildProcessHandle[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(started.map((child) => child.stop('SIGTERM', 5_000)));
  };
  try {
    started.push(
      await startChildProcess({
        name: `gpu-sim-${shardId}`,
        ...node('dist/main.js'),
        cwd: `${root}services/gpu-sim`,
        env: {
          SPILLWAY_SERVICE: 'gpu-sim',
          GPU_SIM_PORT: String(gpuSimPort),
          GPU_SIM_TIME_SCALE: options.timeScale,
          GPU_SIM_MODEL_NAME: 'spillway-8b',
          GPU_SIM_SEED: '0',
          GPU_SIM_LOAD_TIME_MS: options.modelLoadMs,
        },
        readyWhen: (line) => line.includes('gpu-sim listening'),
        timeoutMs: 60_000,
      }),
    );
    started.push(
      await startChildProcess({
        name: `adapter-${shardId}`,
        ...node('dist/main.js'),
        cwd: `${root}services/inference-adapter`,
        env: {
          SPILLWAY_SERVICE: 'inference-adapter',
          SHARD_ID: shardId,
          POOL: 'default',
          MODEL: 'spillway-8b',
          ZONE: index % 2 === 0 ? 'local-a' : 'local-b',
          ENGINE_URL: `http://127.0.0.1:${gpuSimPort}`,
          ENGINE_KIND: 'vllm',
          GRPC_PORT: String(50061 + portOffset + index),
          REGISTRY_ADDRESS: `127.0.0.1:${50070 + portOffset}`,
          KAFKA_BROKERS: '127.0.0.1:19092',
        },
        readyWhen: (line) => line.includes('serving Inference on'),
        timeoutMs: 60_000,
      }),
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    shardId,
    kill: async () => {
      await Promise.all(started.map((child) => child.kill()));
    },
    stop,
  };
}
