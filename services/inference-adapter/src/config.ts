import { env, loadConfig, z } from '@spillway/config';
import { ENGINE_KINDS } from './application/engine.port.js';
import { parseEngineAddress } from './adapters/engines/engine-address.js';

const hostPort = z.string().regex(/^[^:\s]+:\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:19092');

/** One registry, or every instance of an active–standby registry (IPv4 literals: grpc-js resolves those). */
const registryAddress = z
  .string()
  .regex(
    /^(?:[^:\s,]+:\d{1,5}|\d{1,3}(?:\.\d{1,3}){3}:\d{1,5}(?:,\d{1,3}(?:\.\d{1,3}){3}:\d{1,5})+)$/,
    'expected host:port, or several IPv4 host:port separated by commas, e.g. 127.0.0.1:50070,127.0.0.1:50071',
  );

/** Every variable the adapter reads; a bad value stops start-up with its name. */
export const inferenceAdapterConfigSchema = z.object({
  SHARD_ID: z.string().min(1, 'name this shard, e.g. shard-8b-a1'),
  POOL: z.string().min(1).default('default'),
  MODEL: z
    .string()
    .min(1, 'the model name the engine serves, e.g. meta-llama/Llama-3.1-8B-Instruct'),
  ZONE: z.string().min(1).default('local'),
  /**
   * The engine's base URL, or `unix:/path/to.sock` for an engine on a Unix domain socket beside
   * the adapter (vLLM `--uds`).
   */
  ENGINE_URL: z.string().superRefine((value, ctx) => {
    try {
      parseEngineAddress(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
    }
  }),
  ENGINE_KIND: z.enum(ENGINE_KINDS).default('vllm'),
  GRPC_HOST: z.string().min(1).default('127.0.0.1'),
  /** 0 binds an ephemeral port (tests); the bound port is logged and registered. */
  GRPC_PORT: env.port(50061),
  /** host:port others reach this adapter at; default GRPC_HOST and the bound port. */
  ADVERTISED_ENDPOINT: hostPort.optional(),
  /**
   * The shard registry (shard-metadata), one address or every instance's (docs/adr/0008); unset:
   * run without registering.
   */
  REGISTRY_ADDRESS: registryAddress.optional(),
  REGISTRY_DEADLINE_MS: env.durationMs(2_000),
  /** Unset: no load reports on Kafka. */
  KAFKA_BROKERS: z
    .string()
    .optional()
    .transform((value) =>
      value === undefined
        ? undefined
        : value
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
    )
    .pipe(z.array(hostPort).min(1, 'list at least one broker, e.g. 127.0.0.1:19092').optional()),
  /** Topic for ShardLoadReported; tests point it at a private topic. */
  LOAD_TOPIC: z.string().min(1).default('spillway.shard.load.v1'),
  /** Partitions if the adapter has to create LOAD_TOPIC. */
  LOAD_TOPIC_PARTITIONS: z.coerce.number().int().min(1).default(6),
  MAX_IN_FLIGHT_STREAMS: z.coerce.number().int().min(1).default(64),
  ENGINE_CONNECT_TIMEOUT_MS: env.durationMs(5_000),
  FIRST_TOKEN_TIMEOUT_MS: env.durationMs(60_000),
  INTER_TOKEN_TIMEOUT_MS: env.durationMs(15_000),
  ENGINE_TIMEOUT_MS: env.durationMs(600_000),
  HEARTBEAT_INTERVAL_MS: env.durationMs(1_000),
  LOAD_REPORT_INTERVAL_MS: env.durationMs(1_000),
  /** How long a shutdown waits for in-flight streams before cutting them. */
  SHUTDOWN_GRACE_MS: env.durationMs(30_000),
  KV_CAPACITY_TOKENS: z.coerce.number().int().min(0).default(0),
  HARDWARE_PROFILE: z.string().default(''),
  COST_PER_HOUR: z.coerce.number().min(0).default(1),
  /** Read by @spillway/telemetry/register; validated here so a typo names the variable. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
});

export type InferenceAdapterConfig = z.infer<typeof inferenceAdapterConfigSchema>;

export const INFERENCE_ADAPTER_CONFIG = Symbol('InferenceAdapterConfig');

export function loadInferenceAdapterConfig(
  environment: NodeJS.ProcessEnv = process.env,
): InferenceAdapterConfig {
  return loadConfig('inference-adapter', inferenceAdapterConfigSchema, environment);
}
