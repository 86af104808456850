import { type NestFastifyApplication } from '@nestjs/platform-fastify';
import { createTestDatabase, redisKeyPrefix, type TestDatabase } from '@spillway/testing';
import { Redis } from 'ioredis';
import { AdministerTenants } from '../../src/application/administer-tenants/administer-tenants.use-case.js';
import { type Log } from '../../src/application/ports/system.port.js';
import { type Tier } from '../../src/domain/tenant.js';
import { loadGatewayConfig } from '../../src/config.js';
import { connectDependencies, createGatewayApp } from '../../src/gateway.app.js';
import { type GatewayDependencies } from '../../src/gateway.module.js';
import { FakeChatService } from './fake-chat-service.js';

export interface TestGateway {
  readonly baseUrl: string;
  readonly app: NestFastifyApplication;
  readonly deps: GatewayDependencies;
  close(): Promise<void>;
}

export interface TestTenant {
  readonly id: string;
  readonly name: string;
  readonly apiKey: string;
  readonly keyId: string;
}

let tenantCounter = 0;

/**
 * Everything a gateway test needs, real where it matters: a private PostgreSQL database, a private
 * Redis key prefix, and the fake ChatService on a real gRPC port. Gateways run in this process.
 */
export class GatewayWorld {
  readonly gateways: TestGateway[] = [];
  /** What the gateways logged, instead of stderr. */
  readonly logged: {
    readonly level: string;
    readonly message: string;
    readonly fields?: unknown;
  }[] = [];
  readonly log: Log = {
    warn: (message, fields) => this.logged.push({ level: 'warn', message, fields }),
    info: (message, fields) => this.logged.push({ level: 'info', message, fields }),
  };

  private constructor(
    readonly router: FakeChatService,
    readonly routerAddress: string,
    readonly database: TestDatabase,
    readonly redisPrefix: string,
    readonly redis: Redis,
    private readonly cleanupRedis: () => Promise<number>,
  ) {}

  static async create(): Promise<GatewayWorld> {
    const router = new FakeChatService();
    const routerAddress = await router.start();
    const database = await createTestDatabase();
    const prefix = redisKeyPrefix('gateway-test');
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
      lazyConnect: true,
    });
    await redis.connect();
    return new GatewayWorld(router, routerAddress, database, prefix.prefix, redis, () =>
      prefix.cleanup(redis),
    );
  }

  /** The environment a gateway of this world runs with, plus overrides. */
  env(overrides: Record<string, string> = {}): Record<string, string> {
    return {
      GATEWAY_HOST: '127.0.0.1',
      GATEWAY_PORT: '0',
      DATABASE_URL: this.database.url,
      GATEWAY_DATABASE_AUTOCREATE: 'false',
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      GATEWAY_REDIS_KEY_PREFIX: this.redisPrefix,
      ROUTER_ADDRESS: this.routerAddress,
      GATEWAY_AUTH_CACHE_TTL_MS: '0',
      GATEWAY_ADMIN_TOKEN: 'test-admin-token',
      ...overrides,
    };
  }

  async startGateway(overrides: Record<string, string> = {}): Promise<TestGateway> {
    const config = loadGatewayConfig(this.env(overrides));
    const deps = { ...(await connectDependencies(config)), log: this.log };
    const app = await createGatewayApp(deps, { logger: false });
    await app.listen(0, '127.0.0.1');
    const address = app.getHttpServer().address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const gateway: TestGateway = {
      baseUrl: `http://127.0.0.1:${port}`,
      app,
      deps,
      close: () => app.close(),
    };
    this.gateways.push(gateway);
    return gateway;
  }

  /** A tenant with one API key, created through the same use case as the admin CLI. */
  async createTenant(
    gateway: TestGateway,
    options: { tier?: Tier; rpm?: number; tpm?: number; name?: string } = {},
  ): Promise<TestTenant> {
    const admin = gateway.app.get(AdministerTenants);
    tenantCounter += 1;
    const tenant = await admin.createTenant({
      name: options.name ?? `t${tenantCounter}-${Math.random().toString(36).slice(2, 8)}`,
      tier: options.tier ?? 'standard',
      requestsPerMinute: options.rpm ?? 10_000,
      tokensPerMinute: options.tpm ?? 10_000_000,
    });
    const key = await admin.createApiKey(tenant.id, 'test');
    return { id: tenant.id, name: tenant.name, apiKey: key.apiKey, keyId: key.record.id };
  }

  async cleanup(): Promise<void> {
    for (const gateway of this.gateways.splice(0)) await gateway.close();
    await this.router.stop();
    await this.cleanupRedis();
    this.redis.disconnect();
    await this.database.cleanup();
  }
}

/** JSON POST with a bearer key. */
export async function postJson(
  url: string,
  apiKey: string | undefined,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(apiKey !== undefined ? { authorization: `Bearer ${apiKey}` } : {}),
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export function userMessage(content: string) {
  return { role: 'user', content };
}

/** The `data:` payloads of a server-sent-events body, in order. */
export function sseEvents(body: string): string[] {
  return body
    .split('\n\n')
    .filter((event) => event.startsWith('data: '))
    .map((event) => event.slice('data: '.length));
}

/** The assistant text a streamed chat completion carried. */
export function sseText(body: string): string {
  return sseEvents(body)
    .filter((data) => data !== '[DONE]')
    .map(
      (data) =>
        (JSON.parse(data) as { choices?: { delta?: { content?: string } }[] }).choices?.[0]?.delta
          ?.content ?? '',
    )
    .join('');
}
