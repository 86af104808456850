import { Redis } from 'ioredis';

export interface RedisConnectionOptions {
  /**
   * Commands issued in the same event-loop turn share one socket write and one read instead of a
   * syscall pair each. The price: a command waits for the pipeline that is already on the wire to
   * be answered before it is sent, which suits throughput, not a command a reply is waiting for.
   */
  readonly autoPipelining: boolean;
}

/**
 * Fails a command fast instead of queueing it while Redis is away: a request waits at most
 * about a second before the gateway answers, rather than hanging.
 */
export async function connectRedis(
  url: string,
  options: RedisConnectionOptions = { autoPipelining: true },
): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    commandTimeout: 1_000,
    connectTimeout: 5_000,
    enableOfflineQueue: true,
    enableAutoPipelining: options.autoPipelining,
  });
  // Reconnects are automatic; errors surface on the commands that fail.
  redis.on('error', () => undefined);
  await redis.connect();
  return redis;
}

/**
 * Closes once the commands already sent are answered (replies come in order, so a PING answered
 * means every command before it was): a settle in flight at shutdown still lands.
 */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'ready') await redis.ping().catch(() => undefined);
  // Disconnecting an ended connection again would arm a timer for a close that never comes.
  if (redis.status !== 'end') redis.disconnect();
}
