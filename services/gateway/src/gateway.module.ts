import { type DynamicModule, Module, type OnApplicationShutdown } from '@nestjs/common';
import { AdministerTenants } from './application/administer-tenants/administer-tenants.use-case.js';
import { AuthenticateApiKey } from './application/authenticate/authenticate-api-key.use-case.js';
import { CompleteChat } from './application/complete-chat/complete-chat.use-case.js';
import { Conversations } from './application/conversations/conversations.use-case.js';
import { ModelCatalog } from './application/list-models/model-catalog.js';
import { type ChatPort } from './application/ports/chat.port.js';
import { type IdempotencyStore } from './application/ports/idempotency.port.js';
import { type QuotaPort } from './application/ports/quota.port.js';
import { type ResponseCache } from './application/ports/response-cache.port.js';
import { type Clock, type Log, type RandomSource } from './application/ports/system.port.js';
import { type TenantDirectory } from './application/ports/tenant-directory.port.js';
import { AdmissionGate } from './application/run-turn/admission-gate.js';
import { TurnRunner } from './application/run-turn/turn-runner.js';
import { AdminHttpController } from './adapters/http/admin.http.controller.js';
import { ADMIN_TOKEN, AdminTokenGuard } from './adapters/http/admin-token.guard.js';
import { ApiKeyGuard } from './adapters/http/api-key.guard.js';
import { ChatCompletionsHttpController } from './adapters/http/chat-completions.http.controller.js';
import { ConversationsHttpController } from './adapters/http/conversations.http.controller.js';
import { HealthHttpController } from './adapters/http/health.http.controller.js';
import { HTTP_SETTINGS, type HttpSettings } from './adapters/http/http-settings.js';
import { MetricsHttpController } from './adapters/http/metrics.http.controller.js';
import { ModelsHttpController } from './adapters/http/models.http.controller.js';
import { OpenApiHttpController } from './adapters/http/openapi.http.controller.js';
import { OtelGatewayMetrics } from './adapters/metrics/otel-gateway-metrics.js';
import { type GatewayConfig } from './config.js';

/** Everything with I/O, built (and connected) before Nest starts; see gateway.app.ts. */
export interface GatewayDependencies {
  readonly config: GatewayConfig;
  readonly tenants: TenantDirectory;
  readonly chat: ChatPort;
  readonly quota: QuotaPort;
  readonly idempotency: IdempotencyStore;
  readonly cache: ResponseCache;
  readonly metrics: OtelGatewayMetrics;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly log: Log;
  /** Closes connections once Nest has stopped serving. */
  readonly close: () => Promise<void>;
}

const DEPENDENCIES = Symbol('GATEWAY_DEPENDENCIES');

class ResourceCloser implements OnApplicationShutdown {
  constructor(private readonly close: () => Promise<void>) {}
  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }
}

/** Composition root: wiring only. */
@Module({})
export class GatewayModule {
  static forRoot(deps: GatewayDependencies): DynamicModule {
    const { config, clock, log } = deps;
    const catalog = new ModelCatalog(deps.chat, clock, log, {
      ttlMs: config.GATEWAY_MODELS_CACHE_MS,
      maxPromptTokens: config.GATEWAY_MAX_PROMPT_TOKENS,
    });
    const admission = new AdmissionGate(clock, {
      maxConcurrentTurns: config.GATEWAY_MAX_CONCURRENT_TURNS,
      drainWindowMs: config.GATEWAY_DRAIN_WINDOW_MS,
      fallbackRetryAfterMs: config.GATEWAY_SHED_FALLBACK_RETRY_AFTER_MS,
      maxRetryAfterMs: config.GATEWAY_MAX_RETRY_AFTER_MS,
    });
    const runner = new TurnRunner(
      deps.chat,
      deps.quota,
      deps.idempotency,
      deps.cache,
      admission,
      deps.metrics,
      clock,
      log,
      {
        defaultCompletionReserve: config.GATEWAY_DEFAULT_COMPLETION_RESERVE,
        turnTimeoutMs: config.GATEWAY_TURN_TIMEOUT_MS,
        cacheEnabled: config.GATEWAY_CACHE_ENABLED,
        cacheTtlMs: config.GATEWAY_CACHE_TTL_SECONDS * 1000,
        idempotencyTtlMs: config.GATEWAY_IDEMPOTENCY_TTL_SECONDS * 1000,
        idempotencyWaitMs: config.GATEWAY_IDEMPOTENCY_WAIT_MS,
      },
    );
    const settings: HttpSettings = {
      bodyLimitBytes: config.GATEWAY_BODY_LIMIT_BYTES,
      limits: {
        maxMessages: config.GATEWAY_MAX_MESSAGES,
        maxMessageChars: config.GATEWAY_MAX_MESSAGE_CHARS,
        maxCompletionTokens: config.GATEWAY_MAX_COMPLETION_TOKENS,
      },
      log,
    };
    return {
      module: GatewayModule,
      controllers: [
        HealthHttpController,
        ChatCompletionsHttpController,
        ModelsHttpController,
        ConversationsHttpController,
        AdminHttpController,
        MetricsHttpController,
        OpenApiHttpController,
      ],
      providers: [
        { provide: DEPENDENCIES, useValue: deps },
        { provide: HTTP_SETTINGS, useValue: settings },
        { provide: ADMIN_TOKEN, useValue: config.GATEWAY_ADMIN_TOKEN },
        { provide: OtelGatewayMetrics, useValue: deps.metrics },
        {
          provide: AuthenticateApiKey,
          useValue: new AuthenticateApiKey(deps.tenants, clock, config.GATEWAY_AUTH_CACHE_TTL_MS),
        },
        { provide: ModelCatalog, useValue: catalog },
        { provide: CompleteChat, useValue: new CompleteChat(catalog, runner) },
        { provide: Conversations, useValue: new Conversations(deps.chat, catalog, runner) },
        {
          provide: AdministerTenants,
          useValue: new AdministerTenants(deps.tenants, deps.random, clock),
        },
        { provide: ResourceCloser, useValue: new ResourceCloser(deps.close) },
        ApiKeyGuard,
        AdminTokenGuard,
      ],
    };
  }
}
