import { Redis, type RedisOptions } from 'ioredis';

export type RedisRole = 'producer' | 'worker' | 'client';

/**
 * One factory for every Redis connection.
 * - worker: `maxRetriesPerRequest: null` (BullMQ requirement: blocking commands wait through reconnects)
 * - producer: fail fast (`enableOfflineQueue: false`, one retry) so an HTTP request gets a 503, not a hang
 * - client: general use (state, idempotency, store) with bounded retries
 */
export function createRedis(url: string, role: RedisRole, extra: RedisOptions = {}): Redis {
  const base: RedisOptions = {
    connectionName: `ivr-${role}`,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    ...(role === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : role === 'producer'
        ? { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000, commandTimeout: 2000 }
        : { maxRetriesPerRequest: 3, connectTimeout: 5000 }),
    ...extra,
  };
  return new Redis(url, base);
}

/** Resolve once the connection is ready, or reject after `timeoutMs` with an actionable message. */
export async function waitForRedis(redis: Redis, timeoutMs = 5000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis not reachable within ${timeoutMs} ms (status ${redis.status}); is it running at the configured REDIS_URL?`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
    };
    redis.on('ready', onReady);
  });
}

/** Warn (do not fail) when Redis may evict BullMQ keys. Returns the policy seen. */
export async function checkEvictionPolicy(redis: Redis): Promise<string | undefined> {
  try {
    const res = (await redis.config('GET', 'maxmemory-policy')) as string[];
    return res[1];
  } catch {
    return undefined; // CONFIG may be disabled on managed Redis
  }
}
