import { createHash } from 'node:crypto';
import { type Redis } from 'ioredis';
import { type ResponseCache } from '../../application/ports/response-cache.port.js';
import { type CompletedTurn } from '../../domain/chat.js';

/** Entries live under the tenant's own key space, so one tenant can never read another's. */
export class RedisResponseCache implements ResponseCache {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  async get(tenantId: string, keyMaterial: string): Promise<CompletedTurn | undefined> {
    const raw = await this.redis.get(this.key(tenantId, keyMaterial));
    return raw === null ? undefined : (JSON.parse(raw) as CompletedTurn);
  }

  async put(
    tenantId: string,
    keyMaterial: string,
    turn: CompletedTurn,
    ttlMs: number,
  ): Promise<void> {
    await this.redis.set(
      this.key(tenantId, keyMaterial),
      JSON.stringify(turn),
      'PX',
      Math.max(1, Math.ceil(ttlMs)),
    );
  }

  private key(tenantId: string, keyMaterial: string): string {
    return `${this.keyPrefix}cache:{${tenantId}}:${createHash('sha256').update(keyMaterial).digest('hex')}`;
  }
}
