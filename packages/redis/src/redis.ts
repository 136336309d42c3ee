import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { StartupError } from '@ivr/config';
import { coalesceWrites, type CorkableSocket } from './coalesce-writes';

export type RedisRole = 'producer' | 'worker' | 'client';

/**
 * One factory for every Redis connection.
 * - worker: `maxRetriesPerRequest: null` (BullMQ requirement: blocking commands wait through reconnects)
 * - producer: fail fast (`enableOfflineQueue: false`, one retry) so an HTTP request gets a 503, not a hang
 * - client: general use (state, idempotency, store) with bounded retries
 * Every connection's commands of one event-loop turn go out in one syscall (coalesceWrites; not for a Cluster).
 */
export function createRedis(url: string, role: RedisRole, extra: RedisOptions = {}): Redis {
  const cluster = parseClusterUrl(url);
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
  if (cluster) {
    // A Cluster answers every command we use like a single Redis, because every key we and BullMQ write
    // carries QUEUE_PREFIX's hash tag (loadConfig enforces one), so multi-key scripts stay in one slot.
    return new Cluster(cluster.nodes, {
      redisOptions: { ...base, ...(cluster.password ? { password: cluster.password } : {}), ...(cluster.username ? { username: cluster.username } : {}), ...(cluster.tls ? { tls: {} } : {}) },
      enableOfflineQueue: base.enableOfflineQueue ?? true,
      enableReadyCheck: true,
      clusterRetryStrategy: base.retryStrategy,
    }) as unknown as Redis;
  }
  const redis = new Redis(url, base);
  // Each (re)connection has a new socket: its commands of one turn go out in one syscall (coalesce-writes.ts).
  redis.on('connect', () => coalesceWrites((redis as unknown as { stream: CorkableSocket }).stream));
  return redis;
}

/**
 * `redis-cluster://[user:password@]host:port,host:port` (or `rediss-cluster://` for TLS): the seed nodes of a
 * Redis Cluster. Returns undefined for a plain `redis://` URL.
 */
export function parseClusterUrl(url: string): { nodes: Array<{ host: string; port: number }>; username?: string; password?: string; tls: boolean } | undefined {
  const m = /^(rediss?)-cluster:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#]+)\/?$/.exec(url);
  if (!m) return undefined;
  const nodes = m[4]!.split(',').map((hp) => {
    const i = hp.lastIndexOf(':');
    const host = i >= 0 ? hp.slice(0, i) : hp;
    const port = i >= 0 ? Number(hp.slice(i + 1)) : 6379;
    if (!host || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`REDIS_URL: bad cluster node "${hp}" (expected host:port)`);
    return { host, port };
  });
  return {
    nodes,
    ...(m[2] ? { username: decodeURIComponent(m[2]) } : {}),
    ...(m[3] ? { password: decodeURIComponent(m[3]) } : {}),
    tls: m[1] === 'rediss',
  };
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

/** Log a warning (do not fail) when Redis may evict queued jobs and idempotency keys under memory pressure. */
export async function warnIfEvicting(redis: Redis, logger: { warn(obj: object, msg?: string): void }): Promise<void> {
  const policy = await checkEvictionPolicy(redis);
  if (policy && policy !== 'noeviction') {
    logger.warn({ maxmemoryPolicy: policy }, 'Redis maxmemory-policy is not noeviction: under memory pressure Redis may delete queued jobs and idempotency keys; set maxmemory-policy noeviction');
  }
}

/** The Redis maxmemory-policy, or undefined where CONFIG is disabled. */
export async function checkEvictionPolicy(redis: Redis): Promise<string | undefined> {
  try {
    const res = (await redis.config('GET', 'maxmemory-policy')) as string[];
    return res[1];
  } catch {
    return undefined; // CONFIG may be disabled on managed Redis
  }
}

/** Smallest Redis `maxmemory` the system starts with (queues, idempotency keys, the embedded store share it). */
export const MIN_REDIS_MAXMEMORY_BYTES = 64 * 1024 * 1024;
/** Used memory (share of maxmemory) above which a start warns, and above which it refuses. */
export const REDIS_MEMORY_WARN = 0.8;
export const REDIS_MEMORY_REFUSE = 0.95;

export type MemoryVerdict = { level: 'ok' | 'warn' | 'refuse'; reason?: string; usedBytes: number; maxBytes: number };

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;

/**
 * With `maxmemory-policy noeviction` a full Redis refuses every write: ingestion stops (503) and decisions stall.
 * So at start: refuse when maxmemory is set below MIN_REDIS_MAXMEMORY_BYTES or used memory is at or above 95 % of
 * it; warn above 80 %. maxmemory 0 (no limit; the machine's memory is the limit) passes.
 */
export function memoryVerdict(usedBytes: number, maxBytes: number): MemoryVerdict {
  const base = { usedBytes, maxBytes };
  if (maxBytes === 0) return { level: 'ok', ...base };
  if (maxBytes < MIN_REDIS_MAXMEMORY_BYTES) {
    return { level: 'refuse', reason: `Redis maxmemory is ${mb(maxBytes)}, below the ${mb(MIN_REDIS_MAXMEMORY_BYTES)} this system needs; raise maxmemory`, ...base };
  }
  const share = usedBytes / maxBytes;
  const pct = `${(share * 100).toFixed(0)} %`;
  if (share >= REDIS_MEMORY_REFUSE) {
    return { level: 'refuse', reason: `Redis memory is ${pct} full (${mb(usedBytes)} of maxmemory ${mb(maxBytes)}); with noeviction new webhooks would be refused: raise maxmemory, lower STORE_RETENTION_DAYS or free memory`, ...base };
  }
  if (share >= REDIS_MEMORY_WARN) {
    return { level: 'warn', reason: `Redis memory is ${pct} full (${mb(usedBytes)} of maxmemory ${mb(maxBytes)})`, ...base };
  }
  return { level: 'ok', ...base };
}

/** Read INFO memory and judge it (undefined where INFO is not allowed). */
export async function checkRedisMemory(redis: Redis): Promise<MemoryVerdict | undefined> {
  let info: string;
  try {
    info = await redis.info('memory');
  } catch {
    return undefined;
  }
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? NaN);
  const used = field('used_memory');
  const max = field('maxmemory');
  if (!Number.isFinite(used) || !Number.isFinite(max)) return undefined;
  return memoryVerdict(used, max);
}

/** At start: throw a StartupError (one line, no stack) when Redis is too small or too full; warn when nearly full. */
export async function assertRedisMemory(redis: Redis, logger: { warn(obj: object, msg?: string): void }): Promise<void> {
  const v = await checkRedisMemory(redis);
  if (!v) return;
  if (v.level === 'refuse') throw new StartupError(v.reason!);
  if (v.level === 'warn') logger.warn({ usedBytes: v.usedBytes, maxmemoryBytes: v.maxBytes, reason: v.reason }, 'Redis memory nearly full');
}
