import { loadConfig, z } from '@spillway/config';
import { parseFaultSpec } from './application/faults.js';

/** Linux's `sun_path` holds 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH_BYTES = 107;

/**
 * Configuration from GPU_SIM_* variables, each also settable by a command-line flag
 * (`--time-scale 0.01` ≡ GPU_SIM_TIME_SCALE=0.01); flags win.
 */
export const configSchema = z.object({
  GPU_SIM_PROFILE: z.string().min(1).default('llama-3.1-8b-h100'),
  /** Wall seconds per simulated second; 0 = zero latency (every step is due at once). */
  GPU_SIM_TIME_SCALE: z.coerce.number().min(0).max(1000).default(1),
  GPU_SIM_HOST: z.string().min(1).default('127.0.0.1'),
  GPU_SIM_PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  /** Listen on this Unix domain socket instead of host:port, as vLLM's `--uds` does. */
  GPU_SIM_UDS: z
    .string()
    .min(1)
    .refine(
      (path) => Buffer.byteLength(path) <= MAX_SOCKET_PATH_BYTES,
      `expected a socket path of at most ${MAX_SOCKET_PATH_BYTES} bytes (the Unix limit), e.g. /tmp/gpu-sim.sock`,
    )
    .optional(),
  GPU_SIM_SEED: z.coerce.number().int().default(0),
  GPU_SIM_MODEL_NAME: z.string().min(1).optional(),
  GPU_SIM_FAULT: z
    .string()
    .default('none')
    .superRefine((value, ctx) => {
      try {
        parseFaultSpec(value);
      } catch {
        ctx.addIssue({
          code: 'custom',
          message: 'expected none, die[:N], hang, slow[:F], error[:500|503] or malformed[:N]',
        });
      }
    }),
  /** Overrides the profile's simulated model load time (ms, scaled like everything else). */
  GPU_SIM_LOAD_TIME_MS: z.coerce.number().min(0).optional(),
  GPU_SIM_MIN_TICK_MS: z.coerce.number().min(0).max(1000).default(1),
  GPU_SIM_MAX_WRITES_PER_SEC: z.coerce.number().int().min(0).default(8000),
  GPU_SIM_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(30_000),
});

export type GpuSimConfig = z.infer<typeof configSchema>;

/**
 * What GPU_SIM_TIME_SCALE=0 runs at: one simulated second per wall nanosecond, so a whole reply is
 * generated in the first engine tick after it arrives. The engine keeps a finite clock (arrival
 * times, metrics) instead of dividing by zero.
 */
export const ZERO_LATENCY_TIME_SCALE = 1e-9;

/** The engine's time scale and shortest tick: zero latency also drops the 1 ms timer floor. */
export function effectiveTiming(config: GpuSimConfig): { timeScale: number; minTickMs: number } {
  return config.GPU_SIM_TIME_SCALE === 0
    ? { timeScale: ZERO_LATENCY_TIME_SCALE, minTickMs: 0 }
    : { timeScale: config.GPU_SIM_TIME_SCALE, minTickMs: config.GPU_SIM_MIN_TICK_MS };
}

const FLAGS: Record<string, keyof GpuSimConfig> = {
  '--profile': 'GPU_SIM_PROFILE',
  '--time-scale': 'GPU_SIM_TIME_SCALE',
  '--host': 'GPU_SIM_HOST',
  '--port': 'GPU_SIM_PORT',
  '--uds': 'GPU_SIM_UDS',
  '--seed': 'GPU_SIM_SEED',
  '--model-name': 'GPU_SIM_MODEL_NAME',
  '--fault': 'GPU_SIM_FAULT',
  '--min-tick-ms': 'GPU_SIM_MIN_TICK_MS',
  '--load-time-ms': 'GPU_SIM_LOAD_TIME_MS',
  '--max-writes-per-sec': 'GPU_SIM_MAX_WRITES_PER_SEC',
  '--shutdown-grace-ms': 'GPU_SIM_SHUTDOWN_GRACE_MS',
};

export const USAGE = `gpu-sim — a vLLM-compatible GPU simulator
flags (or env): ${Object.entries(FLAGS)
  .map(([flag, variable]) => `${flag} (${variable})`)
  .join(', ')}`;

/** Turns `--flag value` / `--flag=value` into the variables they stand for; throws on unknown flags. */
export function flagsToEnv(argv: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const [flag = '', inline] = arg.split(/=(.*)/s, 2);
    const variable = FLAGS[flag];
    if (!variable) throw new Error(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    env[variable] = value;
  }
  return env;
}

export function loadGpuSimConfig(argv: readonly string[], env: NodeJS.ProcessEnv): GpuSimConfig {
  return loadConfig('gpu-sim', configSchema, { ...env, ...flagsToEnv(argv) });
}
