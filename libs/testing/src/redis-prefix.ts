import type { Redis } from 'ioredis';
import { uniqueSuffix } from './infrastructure.js';

export interface RedisKeyPrefix {
  /** e.g. `test:3f9a0c1e:`; every key the test writes should start with it. */
  readonly prefix: string;
  key(suffix: string): string;
  /** Deletes every `prefix*` key (SCAN + UNLINK, never KEYS); returns how many. */
  cleanup(redis: Redis): Promise<number>;
}

export function redisKeyPrefix(label = 'test'): RedisKeyPrefix {
  const prefix = `${label}:${uniqueSuffix()}:`;
  return {
    prefix,
    key: (suffix) => `${prefix}${suffix}`,
    cleanup: async (redis) => {
      let cursor = '0';
      let deleted = 0;
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
        if (keys.length > 0) deleted += await redis.unlink(...keys);
        cursor = next;
      } while (cursor !== '0');
      return deleted;
    },
  };
}
