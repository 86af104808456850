import { type QuotaDecision } from '../../domain/rate-limit.js';
import { type Tenant } from '../../domain/tenant.js';
import { type GatewayMetrics } from '../ports/gateway-metrics.port.js';
import { type Clock, type Log } from '../ports/system.port.js';
import { type TurnRunnerOptions } from '../run-turn/turn-runner.js';

/** Test data shared by the application specs. */
export const aTenant: Tenant = {
  id: 'ten_1',
  name: 'acme',
  tier: 'standard',
  limits: { requestsPerMinute: 100, tokensPerMinute: 100_000 },
  createdAt: new Date(0),
};

const bucket = { limit: 1, remaining: 1, resetMs: 0 };

/** A quota check that lets the request through. */
export const allowed: QuotaDecision = { allowed: true, requests: bucket, tokens: bucket };

/** A clock that stands still and never sleeps. */
export const stoppedClock: Clock = { nowMs: () => 1_000_000, sleep: async () => undefined };

/** Metrics that go nowhere. */
export const NO_METRICS: GatewayMetrics = {
  cacheLookup: () => undefined,
  shed: () => undefined,
  quotaRejected: () => undefined,
  idempotentReplay: () => undefined,
  turnFinished: () => undefined,
  turnsInFlight: () => undefined,
};

/** A log that writes nothing. */
export const quietLog: Log = { warn: () => undefined, info: () => undefined };

/** TurnRunner settings for specs: cache and idempotency on, nothing waits. */
export const TURN_SETTINGS: TurnRunnerOptions = {
  defaultCompletionReserve: 100,
  turnTimeoutMs: 60_000,
  cacheTtlMs: 60_000,
  cacheEnabled: true,
  idempotencyTtlMs: 60_000,
  idempotencyWaitMs: 0,
};
