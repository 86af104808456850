import { createHash } from 'node:crypto';
import { type Redis } from 'ioredis';
import {
  type IdempotencyClaim,
  type IdempotencyStore,
} from '../../application/ports/idempotency.port.js';
import { type CompletedTurn } from '../../domain/chat.js';
import { asDependency } from '../dependency-error.js';

type Entry =
  | { readonly state: 'pending'; readonly fingerprint: string }
  | { readonly state: 'completed'; readonly fingerprint: string; readonly turn: CompletedTurn };

/** `SET NX` claims a key; the winner overwrites the pending entry with the finished turn. */
export class RedisIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  claim(
    scope: string,
    key: string,
    fingerprint: string,
    pendingTtlMs: number,
  ): Promise<IdempotencyClaim> {
    return asDependency('the idempotency store', () =>
      this.tryClaim(scope, key, fingerprint, pendingTtlMs),
    );
  }

  private async tryClaim(
    scope: string,
    key: string,
    fingerprint: string,
    pendingTtlMs: number,
  ): Promise<IdempotencyClaim> {
    const redisKey = this.key(scope, key);
    const pending: Entry = { state: 'pending', fingerprint };
    const set = await this.redis.set(
      redisKey,
      JSON.stringify(pending),
      'PX',
      Math.max(1, Math.ceil(pendingTtlMs)),
      'NX',
    );
    if (set === 'OK') return { status: 'acquired' };
    const raw = await this.redis.get(redisKey);
    // Abandoned or expired between the two calls: the caller polls and claims it next time.
    if (raw === null) return { status: 'in_progress' };
    const entry = JSON.parse(raw) as Entry;
    if (entry.fingerprint !== fingerprint) return { status: 'mismatch' };
    return entry.state === 'completed'
      ? { status: 'completed', turn: entry.turn }
      : { status: 'in_progress' };
  }

  async complete(
    scope: string,
    key: string,
    fingerprint: string,
    turn: CompletedTurn,
    ttlMs: number,
  ): Promise<void> {
    const entry: Entry = { state: 'completed', fingerprint, turn };
    await this.redis.set(
      this.key(scope, key),
      JSON.stringify(entry),
      'PX',
      Math.max(1, Math.ceil(ttlMs)),
    );
  }

  async abandon(scope: string, key: string): Promise<void> {
    await this.redis.del(this.key(scope, key));
  }

  private key(scope: string, key: string): string {
    return `${this.keyPrefix}idempotency:{${scope}}:${createHash('sha256').update(key).digest('hex')}`;
  }
}
