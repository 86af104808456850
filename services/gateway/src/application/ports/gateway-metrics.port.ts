import { type CacheLookupResult } from '../../domain/response-cache.js';
import { type Priority } from '../../domain/tenant.js';

export type ShedReason = 'local_concurrency' | 'fleet_saturated';

export interface GatewayMetrics {
  cacheLookup(result: CacheLookupResult): void;
  shed(priority: Priority, reason: ShedReason): void;
  quotaRejected(limitedBy: 'requests' | 'tokens'): void;
  idempotentReplay(): void;
  turnFinished(priority: Priority, outcome: 'completed' | 'failed' | 'cancelled'): void;
  turnsInFlight(delta: number): void;
}
