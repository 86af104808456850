import { once } from 'node:events';
import { redisKeyPrefix, type RedisKeyPrefix } from '@spillway/testing';
import { type Redis } from 'ioredis';
import { closeRedis, connectRedis } from '../src/adapters/redis/redis-connection.js';
import { RedisQuota } from '../src/adapters/redis/redis-quota.js';
import { type TenantLimits } from '../src/domain/tenant.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const limits: TenantLimits = { requestsPerMinute: 1_000, tokensPerMinute: 600_000 };

/** The quota adapter as the gateway wires it: admissions auto-pipelined, settles on their own connection. */
describe('RedisQuota with a connection of its own for settles', () => {
  let shared: Redis;
  let settle: Redis;
  let observer: Redis;
  let prefix: RedisKeyPrefix;
  let quota: RedisQuota;

  beforeEach(async () => {
    shared = await connectRedis(REDIS_URL, { autoPipelining: true });
    settle = await connectRedis(REDIS_URL, { autoPipelining: false });
    observer = await connectRedis(REDIS_URL);
    prefix = redisKeyPrefix('gateway-quota');
    quota = new RedisQuota(shared, prefix.prefix, settle);
  });

  afterEach(async () => {
    await prefix.cleanup(observer);
    await Promise.all([closeRedis(shared), closeRedis(settle), closeRedis(observer)]);
  });

  const tokenLevel = async (tenantId: string): Promise<number> =>
    Number(await observer.hget(`${prefix.prefix}quota:{${tenantId}}:tokens`, 'level'));

  it('settles the bucket the admission charged, and the settle has landed when it resolves', async () => {
    const admitted = await quota.admit('t-1', limits, 1_000);
    expect(admitted.allowed).toBe(true);
    // 1 000 reserved, 250 used: 750 come back (plus whatever refilled meanwhile).
    await quota.settle('t-1', limits, 1_000, 250);
    const level = await tokenLevel('t-1');
    expect(level).toBeGreaterThanOrEqual(600_000 - 250);
    expect(level).toBeLessThanOrEqual(600_000);

    const next = await quota.admit('t-1', limits, 1);
    expect(next.tokens.remaining).toBeGreaterThanOrEqual(600_000 - 251);
  });

  it('sends settles on the settle connection, whatever happens to the shared one', async () => {
    await quota.admit('t-2', limits, 10_000);
    const ended = once(shared, 'end');
    shared.disconnect();
    await ended;
    // Usage beyond the reservation is owed: the bucket ends lower than the admission left it.
    await quota.settle('t-2', limits, 10_000, 50_000);
    expect(await tokenLevel('t-2')).toBeLessThan(600_000 - 40_000 + 1_000);
  });

  it('writes a settle at once, without waiting for an auto-pipeline flush', async () => {
    await quota.admit('t-3', limits, 10);
    const sent = quota.settle('t-3', limits, 10, 5);
    // Auto-pipelined commands wait for the next tick; this one is queued for its reply already.
    expect(settle.commandQueue.length).toBe(1);
    await sent;
  });
});
