import { Redis } from 'ioredis';

/**
 * Fails a command fast instead of queueing it while Redis is away: a request waits at most
 * about a second before the gateway answers, rather than hanging.
 */
export async function connectRedis(url: string): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    commandTimeout: 1_000,
    connectTimeout: 5_000,
    enableOfflineQueue: true,
    // Commands issued in the same event-loop turn (quota admits and settles of concurrent turns)
    // share one socket write and one read instead of a syscall pair each.
    enableAutoPipelining: true,
  });
  // Reconnects are automatic; errors surface on the commands that fail.
  redis.on('error', () => undefined);
  await redis.connect();
  return redis;
}
