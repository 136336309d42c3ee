import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** The shared Redis of tests (REDIS_URL, default 127.0.0.1:6379): everything a test writes lives under a unique prefix. */
export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A queue/key prefix no other test (or process) uses. */
export function uniquePrefix(label = 't'): string {
  return `test-${label.replace(/[^A-Za-z0-9]/g, '').slice(0, 20)}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** Delete every key under a prefix (BullMQ's `{prefix}:*` and ours `{prefix}:ivr:*`). */
export async function deletePrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let n = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) n += await redis.unlink(...keys);
  } while (cursor !== '0');
  return n;
}

/** A prefix plus a plain Redis client, and a cleanup that removes the keys and closes the client. */
export function testRedis(label?: string) {
  const prefix = uniquePrefix(label);
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 3 });
  return {
    prefix,
    redis,
    async cleanup() {
      await deletePrefix(redis, prefix);
      redis.disconnect();
    },
  };
}

/** SCAN-count the keys matching a pattern. */
export async function countKeys(redis: Redis, pattern: string): Promise<number> {
  let cursor = '0';
  let n = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 2000);
    cursor = next;
    n += keys.length;
  } while (cursor !== '0');
  return n;
}
