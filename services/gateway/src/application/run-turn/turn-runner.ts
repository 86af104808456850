import { createHash } from 'node:crypto';
import { DomainError, isDomainError } from '@spillway/errors';
import {
  type ChatMessage,
  type CompletedTurn,
  type SamplingParams,
  type TurnEvent,
} from '../../domain/chat.js';
import { type QuotaDecision } from '../../domain/rate-limit.js';
import {
  type CacheLookupResult,
  cacheKeyMaterial,
  isCacheable,
} from '../../domain/response-cache.js';
import { priorityOf, type Tenant } from '../../domain/tenant.js';
import { estimatePromptTokens, tokenReservation } from '../../domain/token-estimate.js';
import { invalidRequest, QuotaExceededError } from '../errors.js';
import { type ChatPort } from '../ports/chat.port.js';
import { type GatewayMetrics } from '../ports/gateway-metrics.port.js';
import { type IdempotencyStore } from '../ports/idempotency.port.js';
import { type QuotaPort } from '../ports/quota.port.js';
import { type ResponseCache } from '../ports/response-cache.port.js';
import { type Clock, type Log } from '../ports/system.port.js';
import { type AdmissionGate } from './admission-gate.js';
import { LiveTurn, type TurnBookkeeping } from './live-turn.js';

export interface TurnRequest {
  readonly tenant: Tenant;
  readonly model: string;
  readonly messages: readonly ChatMessage[];
  readonly sampling: SamplingParams;
  readonly stateless: boolean;
  readonly conversationId?: string;
  readonly endUser?: string;
  readonly idempotencyKey?: string;
  /** Everything that identifies the request, for matching idempotent retries. */
  readonly fingerprintMaterial: string;
  /** 'off' for turns of stored conversations, whose reply depends on history the gateway does not see. */
  readonly cache: 'use' | 'bypass' | 'off';
  /** Prompt size when it is more than `messages` (a stored conversation's history); estimated otherwise. */
  readonly promptTokens?: number;
  /** Told of the turn once the router has completed it (not of a replay). */
  readonly onCompleted?: (turn: CompletedTurn) => void;
  /**
   * Told of a turn that failed or was cancelled after the router had stored its messages: once it
   * started the turn, or when it refused the turn for load (it places a turn after storing it).
   */
  readonly onFailedAfterStored?: () => void;
}

export type TurnOutcome =
  | {
      readonly kind: 'replayed';
      readonly source: 'idempotency' | 'cache';
      readonly turn: CompletedTurn;
      readonly quota: QuotaDecision | undefined;
      readonly cache: CacheLookupResult;
    }
  | {
      readonly kind: 'live';
      readonly turn: LiveTurn;
      readonly quota: QuotaDecision;
      readonly cache: CacheLookupResult;
    };

export interface TurnRunnerOptions {
  readonly defaultCompletionReserve: number;
  readonly turnTimeoutMs: number;
  readonly cacheTtlMs: number;
  readonly cacheEnabled: boolean;
  readonly idempotencyTtlMs: number;
  readonly idempotencyWaitMs: number;
}

/** Router refusals that mean "the fleet is full", which the gateway answers with 429, never 5xx. */
const OVERLOAD_CODES = new Set([
  'ADMISSION.SHED',
  'SHARD.OVERLOADED',
  'DEADLINE.UNMEETABLE',
  'QUOTA.EXCEEDED',
]);
const IDEMPOTENCY_POLL_MS = 50;

function isOverloadRefusal(error: unknown): error is DomainError {
  return (
    isDomainError(error) &&
    (error.details.grpcStatus === 'RESOURCE_EXHAUSTED' || OVERLOAD_CODES.has(error.code))
  );
}

/**
 * One turn through the edge, in order: idempotent replay, quota (requests + estimated tokens),
 * response cache, admission (tier share and fleet saturation), then the router's stream. What was
 * reserved is settled when the stream ends, however it ends.
 */
export class TurnRunner {
  constructor(
    private readonly chat: ChatPort,
    private readonly quota: QuotaPort,
    private readonly idempotency: IdempotencyStore,
    private readonly cache: ResponseCache,
    private readonly admission: AdmissionGate,
    private readonly metrics: GatewayMetrics,
    private readonly clock: Clock,
    private readonly log: Log,
    private readonly options: TurnRunnerOptions,
  ) {}

  async start(request: TurnRequest): Promise<TurnOutcome> {
    const { tenant } = request;
    const idempotencyKey = request.idempotencyKey;
    // Only idempotent retries are matched by fingerprint: no hash for the other requests.
    const fingerprint =
      idempotencyKey === undefined
        ? ''
        : createHash('sha256').update(request.fingerprintMaterial).digest('hex');
    if (idempotencyKey !== undefined) {
      const replay = await this.claimIdempotencyKey(tenant.id, idempotencyKey, fingerprint);
      if (replay) {
        this.metrics.idempotentReplay();
        return {
          kind: 'replayed',
          source: 'idempotency',
          turn: replay,
          quota: undefined,
          cache: 'uncacheable',
        };
      }
    }
    const abandonKey = async (): Promise<void> => {
      if (idempotencyKey !== undefined)
        await this.quietly('abandon idempotency key', () =>
          this.idempotency.abandon(tenant.id, idempotencyKey),
        );
    };

    const promptTokens = request.promptTokens ?? estimatePromptTokens(request.messages);
    let reserved = 0;
    let decision: QuotaDecision;
    try {
      const tokenLimit = tenant.limits.tokensPerMinute;
      const { maxTokens } = request.sampling;
      if (promptTokens + (maxTokens ?? 0) > tokenLimit) {
        throw invalidRequest(
          maxTokens !== undefined && promptTokens <= tokenLimit ? 'max_tokens' : 'messages',
          `This request needs about ${promptTokens + (maxTokens ?? 0)} tokens, more than your tenant's limit of ${tokenLimit} tokens per minute; it can never be admitted. Lower max_tokens or shorten the messages.`,
          'exceeds_token_limit',
        );
      }
      // Without max_tokens the default reservation is only a guess: never let it alone refuse a request.
      reserved = Math.min(
        tokenReservation(promptTokens, maxTokens, this.options.defaultCompletionReserve),
        Math.max(tokenLimit, promptTokens),
      );
      decision = await this.quota.admit(tenant.id, tenant.limits, reserved);
    } catch (error) {
      await abandonKey();
      throw error;
    }
    if (!decision.allowed) {
      this.metrics.quotaRejected(decision.limitedBy);
      await abandonKey();
      throw new QuotaExceededError(decision);
    }
    const refund = (): Promise<void> =>
      this.quietly('settle quota', () => this.quota.settle(tenant.id, tenant.limits, reserved, 0));

    const cacheable =
      this.options.cacheEnabled && request.cache !== 'off' && isCacheable(request.sampling);
    const cacheResult: CacheLookupResult = !cacheable
      ? 'uncacheable'
      : request.cache === 'bypass'
        ? 'bypass'
        : 'miss';
    const cacheMaterial = cacheable
      ? cacheKeyMaterial(request.model, request.messages, request.sampling)
      : undefined;
    if (cacheMaterial !== undefined && cacheResult === 'miss') {
      const hit = await this.quietly('read response cache', () =>
        this.cache.get(tenant.id, cacheMaterial),
      );
      if (hit) {
        this.metrics.cacheLookup('hit');
        // A hit costs no GPU time: the request counts, its token reservation is given back.
        await refund();
        const turn: CompletedTurn = {
          ...hit,
          ...(request.conversationId !== undefined
            ? { conversationId: request.conversationId }
            : {}),
        };
        if (idempotencyKey !== undefined) {
          await this.quietly('record idempotent turn', () =>
            this.idempotency.complete(
              tenant.id,
              idempotencyKey,
              fingerprint,
              turn,
              this.options.idempotencyTtlMs,
            ),
          );
        }
        return { kind: 'replayed', source: 'cache', turn, quota: decision, cache: 'hit' };
      }
    }
    this.metrics.cacheLookup(cacheResult);

    const priority = priorityOf(tenant.tier);
    const { decision: admission, ticket } = this.admission.tryAdmit(priority);
    if (!admission.admitted || !ticket) {
      const retryAfterMs = admission.admitted ? 1000 : admission.retryAfterMs;
      this.metrics.shed(priority, admission.admitted ? 'local_concurrency' : admission.reason);
      await refund();
      await abandonKey();
      throw new DomainError(
        'ADMISSION.SHED',
        `The service is at capacity for the ${tenant.tier} tier. Retry after ${Math.ceil(retryAfterMs / 1000)} s.`,
        { retryAfterSeconds: retryAfterMs / 1000, details: { tier: tenant.tier } },
      );
    }
    this.metrics.turnsInFlight(1);

    const abort = new AbortController();
    const createdAt = Math.floor(this.clock.nowMs() / 1000);
    const events = this.chat.converse(
      {
        tenantId: tenant.id,
        model: request.model,
        messages: request.messages,
        sampling: request.sampling,
        priority,
        stateless: request.stateless,
        ...(request.conversationId !== undefined ? { conversationId: request.conversationId } : {}),
        ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
        ...(request.endUser !== undefined ? { endUser: request.endUser } : {}),
      },
      { signal: abort.signal, deadlineMs: this.options.turnTimeoutMs },
    );
    const iterator = events[Symbol.asyncIterator]();

    const failed = async (deliveredTokens: number, cancelled: boolean): Promise<void> => {
      ticket.release(false);
      this.metrics.turnsInFlight(-1);
      this.metrics.turnFinished(priority, cancelled ? 'cancelled' : 'failed');
      await this.quietly('settle quota', () =>
        this.quota.settle(
          tenant.id,
          tenant.limits,
          reserved,
          deliveredTokens > 0 ? promptTokens + deliveredTokens : 0,
        ),
      );
      await abandonKey();
    };
    const bookkeeping: TurnBookkeeping = {
      completed: async (turn) => {
        request.onCompleted?.(turn);
        ticket.release(true);
        this.metrics.turnsInFlight(-1);
        this.metrics.turnFinished(priority, 'completed');
        // Awaited before the reply ends: the tenant's next request may reach another replica, on
        // another Redis connection, and must see this usage (quotas.e2e.spec). Not awaiting it saved
        // one Redis round trip per reply but let a fast client be admitted on the old balance.
        await this.quietly('settle quota', () =>
          this.quota.settle(tenant.id, tenant.limits, reserved, turn.usage.totalTokens),
        );
        if (idempotencyKey !== undefined) {
          await this.quietly('record idempotent turn', () =>
            this.idempotency.complete(
              tenant.id,
              idempotencyKey,
              fingerprint,
              turn,
              this.options.idempotencyTtlMs,
            ),
          );
        }
        if (
          cacheMaterial !== undefined &&
          (turn.finishReason === 'stop' || turn.finishReason === 'length')
        ) {
          const { conversationId: _affinity, ...cached } = turn;
          await this.quietly('write response cache', () =>
            this.cache.put(tenant.id, cacheMaterial, cached, this.options.cacheTtlMs),
          );
        }
      },
      // Only a started turn gets this far: the router has stored its messages.
      failed: async (deliveredTokens, cancelled) => {
        request.onFailedAfterStored?.();
        await failed(deliveredTokens, cancelled);
      },
    };

    // The first event decides the HTTP status: a refusal arrives before any token, so it can
    // still be a proper 429 instead of an error inside a 200 stream.
    let first: IteratorResult<TurnEvent>;
    try {
      first = await iterator.next();
    } catch (error) {
      if (isOverloadRefusal(error)) request.onFailedAfterStored?.();
      await failed(0, false);
      throw this.overloadAware(error, priority);
    }
    const context = {
      model: request.model,
      createdAt,
      ...(request.conversationId !== undefined ? { conversationId: request.conversationId } : {}),
    };
    const turn = new LiveTurn(first, iterator, abort, bookkeeping, context);
    return { kind: 'live', turn, quota: decision, cache: cacheResult };
  }

  /** Waits out a concurrent duplicate for a while; then the caller gets 409. */
  private async claimIdempotencyKey(
    tenantId: string,
    key: string,
    fingerprint: string,
  ): Promise<CompletedTurn | undefined> {
    const deadline = this.clock.nowMs() + this.options.idempotencyWaitMs;
    for (;;) {
      const claim = await this.idempotency.claim(
        tenantId,
        key,
        fingerprint,
        this.options.turnTimeoutMs,
      );
      switch (claim.status) {
        case 'acquired':
          return undefined;
        case 'completed':
          return claim.turn;
        case 'mismatch':
          throw new DomainError(
            'REQUEST.INVALID',
            'This Idempotency-Key was already used with a different request body. Use a new key for a new request.',
            { details: { param: 'Idempotency-Key', reason: 'idempotency_key_reused' } },
          );
        case 'in_progress':
          if (this.clock.nowMs() >= deadline) {
            throw new DomainError(
              'TURN.ALREADY_COMPLETED',
              'A request with this Idempotency-Key is still in progress. Retry once it has finished to get its response.',
              { details: { param: 'Idempotency-Key', reason: 'idempotency_key_in_use' } },
            );
          }
          await this.clock.sleep(IDEMPOTENCY_POLL_MS);
          break;
        default: {
          const unhandled: never = claim;
          return unhandled;
        }
      }
    }
  }

  /** A router refusal for load becomes ADMISSION.SHED for this tier and below, with an honest hint. */
  private overloadAware(error: unknown, priority: ReturnType<typeof priorityOf>): unknown {
    if (!isOverloadRefusal(error)) return error;
    const fallbackMs = this.admission.options.fallbackRetryAfterMs;
    const hintMs =
      error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : fallbackMs;
    this.admission.noteFleetSaturated(priority, hintMs);
    this.metrics.shed(priority, 'fleet_saturated');
    const retryAfterMs = Math.min(this.admission.options.maxRetryAfterMs, Math.max(1000, hintMs));
    return new DomainError(
      OVERLOAD_CODES.has(error.code) ? error.code : 'ADMISSION.SHED',
      `The fleet is saturated and is shedding ${priority}-priority turns. Retry after ${Math.ceil(retryAfterMs / 1000)} s.`,
      { retryAfterSeconds: retryAfterMs / 1000, cause: error, details: { priority } },
    );
  }

  /** Bookkeeping must not turn a served request into a failure; it is logged instead. */
  private async quietly<T>(what: string, action: () => Promise<T>): Promise<T | undefined> {
    try {
      return await action();
    } catch (error) {
      this.log.warn(`gateway: could not ${what}`, {
        error: error instanceof Error ? error.message : String(error),
      });
      return undefined;
    }
  }
}
