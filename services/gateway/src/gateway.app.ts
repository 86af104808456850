import { NestFactory } from '@nestjs/core';
import { type Redis } from 'ioredis';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { clientErrorHandler } from './adapters/http/client-error.js';
import { installJsonBodyParser } from './adapters/http/json-body.parser.js';
import { OpenAiErrorFilter } from './adapters/http/openai-error.filter.js';
import { installHttpTracing } from './adapters/http/tracing.hook.js';
import { RouterChatClient } from './adapters/grpc/router-chat.grpc-client.js';
import { OtelGatewayMetrics } from './adapters/metrics/otel-gateway-metrics.js';
import { openDatabase } from './adapters/persistence/database.js';
import { PgTenantDirectory } from './adapters/persistence/pg-tenant-directory.js';
import { closeRedis, connectRedis } from './adapters/redis/redis-connection.js';
import { RedisIdempotencyStore } from './adapters/redis/redis-idempotency.js';
import { RedisQuota } from './adapters/redis/redis-quota.js';
import { RedisResponseCache } from './adapters/redis/redis-response-cache.js';
import { cryptoRandom, stderrLog, systemClock } from './adapters/system/system-clock.js';
import { type GatewayConfig } from './config.js';
import { type GatewayDependencies, GatewayModule } from './gateway.module.js';

/** Connects PostgreSQL (migrated), Redis and the router client. */
export async function connectDependencies(config: GatewayConfig): Promise<GatewayDependencies> {
  const pool = await openDatabase({
    url: config.DATABASE_URL,
    autocreate: config.GATEWAY_DATABASE_AUTOCREATE,
  });
  let redis: RedisConnections;
  try {
    redis = await openRedisConnections(config.REDIS_URL);
  } catch (error) {
    await pool.end();
    throw error;
  }
  const chat = new RouterChatClient({
    address: config.ROUTER_ADDRESS,
    deadlineMs: config.GATEWAY_ROUTER_DEADLINE_MS,
  });
  const metrics = new OtelGatewayMetrics();
  const prefix = config.GATEWAY_REDIS_KEY_PREFIX;
  return {
    config,
    tenants: new PgTenantDirectory(pool),
    chat,
    quota: new RedisQuota(redis.shared, prefix, redis.settle),
    idempotency: new RedisIdempotencyStore(redis.shared, prefix),
    cache: new RedisResponseCache(redis.shared, prefix),
    metrics,
    clock: systemClock,
    random: cryptoRandom,
    log: stderrLog,
    close: async () => {
      chat.close();
      await metrics.shutdown();
      await Promise.all([closeRedis(redis.shared), closeRedis(redis.settle)]);
      await pool.end();
    },
  };
}

interface RedisConnections {
  /** Auto-pipelined: admissions, idempotency records and the response cache. */
  readonly shared: Redis;
  /**
   * Quota settles only, each written at once: a reply ends once its settle has landed, so a
   * settle must not wait behind the shared connection's pipeline in flight.
   */
  readonly settle: Redis;
}

async function openRedisConnections(url: string): Promise<RedisConnections> {
  const shared = await connectRedis(url, { autoPipelining: true });
  try {
    return { shared, settle: await connectRedis(url, { autoPipelining: false }) };
  } catch (error) {
    shared.disconnect();
    throw error;
  }
}

export interface RouteEntry {
  readonly method: string;
  /** Fastify syntax, e.g. /v1/conversations/:id */
  readonly url: string;
}

const routeTables = new WeakMap<object, RouteEntry[]>();

/** Every route the application registered (HEAD twins of GET routes excluded). */
export function routesOf(app: NestFastifyApplication): readonly RouteEntry[] {
  return routeTables.get(app.getHttpAdapter().getInstance()) ?? [];
}

/** The gateway as a Nest application on Fastify, not yet listening. */
export async function createGatewayApp(
  deps: GatewayDependencies,
  options: { readonly logger?: false | ('error' | 'warn' | 'log')[] } = {},
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: deps.config.GATEWAY_BODY_LIMIT_BYTES,
    clientErrorHandler,
    return503OnClosing: true,
    // Long ids must reach the validator, which names the problem, instead of becoming a 404.
    maxParamLength: 1_024,
  });
  const fastify = adapter.getInstance();
  const routes: RouteEntry[] = [];
  routeTables.set(fastify, routes);
  fastify.addHook('onRoute', (route) => {
    for (const method of [route.method].flat())
      if (method !== 'HEAD') routes.push({ method, url: route.url });
  });
  installHttpTracing(fastify);
  installJsonBodyParser(fastify, deps.config.GATEWAY_BODY_LIMIT_BYTES);
  const app = await NestFactory.create<NestFastifyApplication>(
    GatewayModule.forRoot(deps),
    adapter,
    {
      logger: options.logger ?? ['error', 'warn', 'log'],
      bodyParser: false,
    },
  );
  app.useGlobalFilters(new OpenAiErrorFilter(deps.config.GATEWAY_BODY_LIMIT_BYTES, deps.log));
  return app;
}
