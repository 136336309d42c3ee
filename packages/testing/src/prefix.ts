import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

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

/** Poll until `check` returns a truthy value or the timeout passes; returns the value or throws with `what`. */
export async function waitFor<T>(check: () => Promise<T> | T, what: string, timeoutMs = 10000, everyMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await check();
    if (last) return last as NonNullable<T>;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last value: ${JSON.stringify(last)})`);
}
