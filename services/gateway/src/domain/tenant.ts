/**
 * Tenants, their tiers and limits. A tier says how a tenant's turns compete for capacity: its
 * priority on the router and its share of the gateway's own concurrency.
 */

export const TIERS = ['batch', 'free', 'standard', 'premium', 'enterprise'] as const;
export type Tier = (typeof TIERS)[number];

/** Mirrors spillway.common.v1.Priority without depending on the generated enum. */
export type Priority = 'batch' | 'low' | 'standard' | 'high' | 'critical';

/** Ordered lowest first: a higher rank is served before, and shed after, a lower one. */
export const PRIORITY_RANK: Readonly<Record<Priority, number>> = {
  batch: 1,
  low: 2,
  standard: 3,
  high: 4,
  critical: 5,
};

export function priorityOf(tier: Tier): Priority {
  switch (tier) {
    case 'batch':
      return 'batch';
    case 'free':
      return 'low';
    case 'standard':
      return 'standard';
    case 'premium':
      return 'high';
    case 'enterprise':
      return 'critical';
    default: {
      const unhandled: never = tier;
      return unhandled;
    }
  }
}

export function isTier(value: string): value is Tier {
  return (TIERS as readonly string[]).includes(value);
}

export interface TenantLimits {
  readonly requestsPerMinute: number;
  readonly tokensPerMinute: number;
}

export interface Tenant {
  readonly id: string;
  readonly name: string;
  readonly tier: Tier;
  readonly limits: TenantLimits;
  readonly createdAt: Date;
}

export interface ApiKeyRecord {
  readonly id: string;
  readonly tenantId: string;
  /** Public, displayable part of the key (`sk-spw-<lookup id>`), unique. */
  readonly prefix: string;
  readonly name: string;
  readonly createdAt: Date;
  readonly revokedAt: Date | null;
}

export const TENANT_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const MAX_REQUESTS_PER_MINUTE = 1_000_000;
export const MAX_TOKENS_PER_MINUTE = 1_000_000_000;
