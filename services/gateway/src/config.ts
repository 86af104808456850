import { env, loadConfig, z } from '@spillway/config';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const gatewayConfigSchema = z.object({
  GATEWAY_HOST: z.string().default('127.0.0.1'),
  GATEWAY_PORT: env.port(8080),
  GATEWAY_BODY_LIMIT_BYTES: positiveInt(1_048_576),

  /** Tenants and API keys. Created on start-up when missing (GATEWAY_DATABASE_AUTOCREATE). */
  DATABASE_URL: env.postgresUrl('postgres://postgres@127.0.0.1:5432/spillway_gateway'),
  GATEWAY_DATABASE_AUTOCREATE: env.bool(true),
  /** Quotas, idempotency records and the response cache, shared by every replica. */
  REDIS_URL: env.redisUrl('redis://127.0.0.1:6379'),
  GATEWAY_REDIS_KEY_PREFIX: z.string().default('spillway:gateway:'),

  /** The router's ChatService. */
  ROUTER_ADDRESS: env.hostPort().default('127.0.0.1:50051'),
  GATEWAY_ROUTER_DEADLINE_MS: positiveInt(10_000),
  GATEWAY_TURN_TIMEOUT_MS: positiveInt(300_000),

  /** Bearer token for /admin/v1/*; empty disables the admin endpoints. */
  GATEWAY_ADMIN_TOKEN: z.string().default(''),
  /** How long a replica trusts an API key lookup; a revoked key stops working within this time. */
  GATEWAY_AUTH_CACHE_TTL_MS: env.durationMs(2_000),

  /** Turns this replica runs at once; each tier may fill only its share (see domain/admission.ts). */
  GATEWAY_MAX_CONCURRENT_TURNS: positiveInt(256),
  GATEWAY_DRAIN_WINDOW_MS: positiveInt(10_000),
  GATEWAY_SHED_FALLBACK_RETRY_AFTER_MS: positiveInt(5_000),
  GATEWAY_MAX_RETRY_AFTER_MS: positiveInt(60_000),

  GATEWAY_MAX_MESSAGES: positiveInt(256),
  GATEWAY_MAX_MESSAGE_CHARS: positiveInt(65_536),
  GATEWAY_MAX_PROMPT_TOKENS: positiveInt(65_536),
  GATEWAY_MAX_COMPLETION_TOKENS: positiveInt(32_768),
  /** Tokens reserved for the reply when a request sets no max_tokens; settled to the real count. */
  GATEWAY_DEFAULT_COMPLETION_RESERVE: positiveInt(512),

  GATEWAY_CACHE_ENABLED: env.bool(true),
  GATEWAY_CACHE_TTL_SECONDS: positiveInt(600),
  GATEWAY_IDEMPOTENCY_TTL_SECONDS: positiveInt(86_400),
  /** How long a duplicate waits for the original request before it gets 409. */
  GATEWAY_IDEMPOTENCY_WAIT_MS: env.durationMs(5_000),
  GATEWAY_MODELS_CACHE_MS: env.durationMs(10_000),
});

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

export function loadGatewayConfig(environment: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return loadConfig('gateway', gatewayConfigSchema, environment);
}
