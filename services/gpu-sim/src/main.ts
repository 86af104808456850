// Started as `node --import @spillway/telemetry/register dist/main.js [flags]`: telemetry is
// installed by the --import before this module loads; then config, then Nest.
import { resolve } from 'node:path';
import { ConfigError } from '@spillway/config';
import { parseFaultSpec } from './application/faults.js';
import { loadProfile } from './adapters/profiles/profile-file.js';
import { effectiveTiming, loadGpuSimConfig } from './config.js';
import { startGpuSim } from './gpu-sim.app.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadGpuSimConfig(process.argv.slice(2), process.env);
  } catch (error) {
    process.stderr.write(
      `${error instanceof ConfigError ? error.message : (error as Error).message}\n`,
    );
    process.exit(78);
  }
  const shipped = loadProfile(config.GPU_SIM_PROFILE);
  const profile =
    config.GPU_SIM_LOAD_TIME_MS === undefined
      ? shipped
      : { ...shipped, modelLoadMs: config.GPU_SIM_LOAD_TIME_MS };
  const timing = effectiveTiming(config);
  const server = await startGpuSim(
    {
      profile,
      modelName: config.GPU_SIM_MODEL_NAME ?? profile.modelName,
      timeScale: timing.timeScale,
      seed: config.GPU_SIM_SEED,
      fault: parseFaultSpec(config.GPU_SIM_FAULT),
      minTickMs: timing.minTickMs,
      maxWritesPerSecond: config.GPU_SIM_MAX_WRITES_PER_SEC,
    },
    config.GPU_SIM_UDS === undefined
      ? { host: config.GPU_SIM_HOST, port: config.GPU_SIM_PORT }
      : { socketPath: resolve(config.GPU_SIM_UDS) },
  );
  process.stdout.write(
    `${JSON.stringify({
      msg: 'gpu-sim listening',
      url: server.url,
      profile: profile.id,
      model: config.GPU_SIM_MODEL_NAME ?? profile.modelName,
      timeScale: config.GPU_SIM_TIME_SCALE,
      readyInMs: profile.modelLoadMs * timing.timeScale,
    })}\n`,
  );
  // process.on (not once) keeps the telemetry hook from exiting before the streams have drained.
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      void server.shutdown(config.GPU_SIM_SHUTDOWN_GRACE_MS).then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(`gpu-sim: shutdown failed: ${String(error)}\n`);
          process.exit(1);
        },
      );
    });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`gpu-sim: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
