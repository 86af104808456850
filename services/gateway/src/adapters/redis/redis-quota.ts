import { type Redis } from 'ioredis';
import { type QuotaPort } from '../../application/ports/quota.port.js';
import { type QuotaDecision } from '../../domain/rate-limit.js';
import { type TenantLimits } from '../../domain/tenant.js';
import { asDependency } from '../dependency-error.js';
import { RedisScript } from './redis-script.js';

/**
 * Two token buckets per tenant, each holding up to one minute of its limit and refilling
 * continuously. Redis's own clock (TIME) is the only clock, so every replica agrees on levels and
 * on Retry-After. Both buckets are checked and charged in one script: all or nothing.
 */
const BUCKET_LEVEL = `
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local function level(key, capacity)
  local state = redis.call('HMGET', key, 'level', 'at')
  local stored, at = tonumber(state[1]), tonumber(state[2])
  if stored == nil or at == nil then return capacity end
  return math.min(capacity, stored + math.max(0, now - at) * capacity / 60000)
end
local function store(key, value, capacity)
  -- %.0f: tostring() would write a millisecond timestamp as 1.7e+12 and lose the precision.
  redis.call('HSET', key, 'level', string.format('%.6f', value), 'at', string.format('%.0f', now))
  -- A bucket left alone refills completely by then; an absent bucket reads as full.
  redis.call('PEXPIRE', key, math.ceil((capacity - value) * 60000 / capacity) + 1000)
end
local function until_full(value, capacity)
  return math.max(0, math.ceil((capacity - value) * 60000 / capacity))
end
`;

const ADMIT = new RedisScript(`${BUCKET_LEVEL}
local request_capacity, token_capacity, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local requests = level(KEYS[1], request_capacity)
local tokens = level(KEYS[2], token_capacity)
local request_wait, token_wait = 0, 0
if requests < 1 then request_wait = math.ceil((1 - requests) * 60000 / request_capacity) end
if tokens < cost then token_wait = math.ceil((cost - tokens) * 60000 / token_capacity) end
local allowed = 0
if request_wait == 0 and token_wait == 0 then
  requests = requests - 1
  tokens = tokens - cost
  allowed = 1
end
store(KEYS[1], requests, request_capacity)
store(KEYS[2], tokens, token_capacity)
return { allowed, string.format('%.6f', requests), until_full(requests, request_capacity), request_wait,
         string.format('%.6f', tokens), until_full(tokens, token_capacity), token_wait }
`);

const SETTLE = new RedisScript(`${BUCKET_LEVEL}
local capacity, delta = tonumber(ARGV[1]), tonumber(ARGV[2])
-- Usage beyond the reservation is owed, but never more than a minute's worth.
local tokens = math.max(-capacity, math.min(capacity, level(KEYS[1], capacity) + delta))
store(KEYS[1], tokens, capacity)
return string.format('%.6f', tokens)
`);

export class RedisQuota implements QuotaPort {
  /**
   * `settleRedis`: the connection settles go out on. A reply waits for its settle, so it gets a
   * connection without auto-pipelining, where a command is written at once instead of queueing
   * behind the admissions already on the wire.
   */
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly settleRedis: Redis = redis,
  ) {}

  async admit(tenantId: string, limits: TenantLimits, tokens: number): Promise<QuotaDecision> {
    const reply = (await asDependency('the quota store', () =>
      ADMIT.run(this.redis, this.keys(tenantId), [
        limits.requestsPerMinute,
        limits.tokensPerMinute,
        tokens,
      ]),
    )) as [number, string, number, number, string, number, number];
    const [
      allowed,
      requestLevel,
      requestResetMs,
      requestWaitMs,
      tokenLevel,
      tokenResetMs,
      tokenWaitMs,
    ] = reply;
    const requests = {
      limit: limits.requestsPerMinute,
      remaining: Math.max(0, Math.floor(Number(requestLevel))),
      resetMs: requestResetMs,
    };
    const tokenBucket = {
      limit: limits.tokensPerMinute,
      remaining: Math.max(0, Math.floor(Number(tokenLevel))),
      resetMs: tokenResetMs,
    };
    if (allowed === 1) return { allowed: true, requests, tokens: tokenBucket };
    return {
      allowed: false,
      requests,
      tokens: tokenBucket,
      limitedBy: tokenWaitMs > requestWaitMs ? 'tokens' : 'requests',
      retryAfterMs: Math.max(requestWaitMs, tokenWaitMs),
    };
  }

  async settle(
    tenantId: string,
    limits: TenantLimits,
    reservedTokens: number,
    actualTokens: number,
  ): Promise<void> {
    const delta = reservedTokens - actualTokens;
    if (delta === 0) return;
    const [, tokenKey] = this.keys(tenantId);
    await SETTLE.run(this.settleRedis, [tokenKey], [limits.tokensPerMinute, delta]);
  }

  /** One hash tag per tenant: both buckets live in the same cluster slot, as a script needs. */
  private keys(tenantId: string): [string, string] {
    return [
      `${this.keyPrefix}quota:{${tenantId}}:requests`,
      `${this.keyPrefix}quota:{${tenantId}}:tokens`,
    ];
  }
}
