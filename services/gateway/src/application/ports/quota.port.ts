import { type QuotaDecision } from '../../domain/rate-limit.js';
import { type TenantLimits } from '../../domain/tenant.js';

/**
 * Per-tenant token buckets shared by every gateway replica: one for requests per minute, one for
 * tokens per minute. Admission takes one request and a token estimate atomically, or nothing.
 */
export interface QuotaPort {
  admit(tenantId: string, limits: TenantLimits, tokens: number): Promise<QuotaDecision>;
  /** Corrects the token bucket once the real usage is known: refunds or charges the difference. */
  settle(
    tenantId: string,
    limits: TenantLimits,
    reservedTokens: number,
    actualTokens: number,
  ): Promise<void>;
}
