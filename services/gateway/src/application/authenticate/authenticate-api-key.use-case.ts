import { hash, timingSafeEqual } from 'node:crypto';
import { DomainError } from '@spillway/errors';
import { bearerToken, parseApiKey } from '../../domain/api-key.js';
import { type Tenant } from '../../domain/tenant.js';
import { type Clock } from '../ports/system.port.js';
import { type TenantDirectory } from '../ports/tenant-directory.port.js';

const UNAUTHENTICATED_HINT = 'Pass your key as `Authorization: Bearer sk-spw-...`.';

/**
 * `Authorization` header → tenant. Positive answers are cached for `cacheTtlMs` per replica, so a
 * revoked key stops working within that time; unknown keys are never cached.
 */
export class AuthenticateApiKey {
  private readonly cache = new Map<
    string,
    { readonly tenant: Tenant; readonly expiresAtMs: number }
  >();

  constructor(
    private readonly directory: TenantDirectory,
    private readonly clock: Clock,
    private readonly cacheTtlMs: number,
  ) {}

  async execute(authorization: string | undefined): Promise<Tenant> {
    if (authorization === undefined || authorization.trim() === '') {
      throw new DomainError('AUTH.UNAUTHENTICATED', `Missing API key. ${UNAUTHENTICATED_HINT}`, {
        details: { reason: 'missing_api_key' },
      });
    }
    const token = bearerToken(authorization);
    const parsed = token === undefined ? undefined : parseApiKey(token);
    if (token === undefined || parsed === undefined) {
      throw new DomainError('AUTH.UNAUTHENTICATED', `Malformed API key. ${UNAUTHENTICATED_HINT}`, {
        details: { reason: 'invalid_api_key' },
      });
    }
    const hash = sha256Hex(token);
    const now = this.clock.nowMs();
    const cached = this.cache.get(hash);
    if (cached && cached.expiresAtMs > now) return cached.tenant;

    const stored = await this.directory.findKeyByLookupId(parsed.lookupId);
    if (!stored || stored.key.revokedAt !== null || !sameHash(stored.secretHash, hash)) {
      this.cache.delete(hash);
      // One answer for unknown, revoked and wrong-secret keys: no oracle for which part was wrong.
      throw new DomainError(
        'AUTH.UNAUTHENTICATED',
        `Incorrect or revoked API key provided: ${parsed.prefix}…`,
        {
          details: { reason: 'invalid_api_key' },
        },
      );
    }
    if (this.cacheTtlMs > 0) {
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(hash, { tenant: stored.tenant, expiresAtMs: now + this.cacheTtlMs });
    }
    return stored.tenant;
  }
}

/** One-shot `hash()`: no Hash object per request, same digest as createHash. */
export function sha256Hex(value: string): string {
  return hash('sha256', value, 'hex');
}

function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}
