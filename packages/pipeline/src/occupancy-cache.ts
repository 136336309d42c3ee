import type { Redis } from 'ioredis';
import { observationsToCounts, type QueueObservation } from '@ivr/core';
import type { Keyspace } from '@ivr/queue-contract';
import { defineScript } from '@ivr/redis';

/** What the decide step needs from Genesys: one observations query for several queues. */
export type ObservationsFetcher = (queueIds: readonly string[]) => Promise<{ results?: unknown[] } | undefined>;

/** `poll`: polled by this process now; `cache`: polled by a peer; `notification`: pushed (occupancy-push.ts). */
export type OccupancyReading =
  | { source: 'poll' | 'cache' | 'notification'; observation: QueueObservation }
  | { source: 'fail_open'; reason: string };

export interface OccupancyStats {
  /** Analytics (observations) calls this process made. */
  analyticsCalls: number;
  /** Readings served from the shared Redis cache without an API call. */
  cacheHits: number;
  /** Readings that had to wait for another process's in-flight call. */
  waitedForPeer: number;
  failOpen: number;
}

export interface OccupancyCache {
  get(queueId: string): Promise<OccupancyReading>;
  stats(): OccupancyStats;
}

export interface OccupancyCacheOptions {
  redis: Redis;
  ks: Keyspace;
  fetch: ObservationsFetcher;
  /** How long an observation is served from cache (OCCUPANCY_CACHE_MS). 0 disables caching. */
  cacheMs: number;
  /** Lock TTL for the single flight; also how long peers wait before trying themselves. */
  lockMs?: number;
  /**
   * Queues refreshed together with any miss (e.g. every queue of the routing policy), so their cache entries
   * expire together and one query per OCCUPANCY_CACHE_MS serves all of them.
   */
  companions?: readonly string[];
  /** Whose conversation figures (waiting, interacting) a reading carries (MEDIA_TYPE, default `voice`). */
  mediaType?: string;
  /** A failed read is remembered this long so a Genesys outage does not turn into a storm of calls. */
  failureCacheMs?: number;
  now?: () => number;
}

/** A cache entry: polled figures, pushed figures (`n`), or a remembered failure. */
type Cached = { o: QueueObservation; n?: 1 } | { e: string };

/**
 * The push path's write into the same cache the workers read: each figure lives `ttlMs` (what is left of
 * OCCUPANCY_MAX_AGE_MS since the channel last confirmed it), then the workers poll again.
 */
export async function storePushedObservations(redis: Redis, ks: Keyspace, entries: ReadonlyArray<{ observation: QueueObservation; ttlMs: number }>): Promise<void> {
  const p = redis.multi();
  for (const { observation, ttlMs } of entries) {
    if (ttlMs > 0) p.set(ks.occupancy(observation.queueId), JSON.stringify({ o: observation, n: 1 } satisfies Cached), 'PX', Math.ceil(ttlMs));
  }
  await p.exec();
}

function fromCached(c: Cached, source: 'poll' | 'cache'): OccupancyReading {
  if ('e' in c) return { source: 'fail_open', reason: c.e };
  return { source: c.n ? 'notification' : source, observation: c.o };
}

/**
 * The shared cache's reading of `queueId` (polled, pushed or a remembered failure), or undefined when the cache holds
 * none: never a Genesys call, never a lock. The receiver's in-call path decides only on what this returns.
 */
export async function readCachedOccupancy(redis: Redis, ks: Keyspace, queueId: string): Promise<OccupancyReading | undefined> {
  return parseCachedOccupancy(await redis.get(ks.occupancy(queueId)));
}

/** A cache entry's value (the GET of `ks.occupancy(queueId)`) as a reading; undefined for no entry. */
export function parseCachedOccupancy(v: string | null | undefined): OccupancyReading | undefined {
  return v ? fromCached(JSON.parse(v) as Cached, 'cache') : undefined;
}

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * Queue observations shared by every worker process through Redis:
 * - a reading is cached per queue for `cacheMs` (key `{prefix}:ivr:occ:{queueId}`);
 * - concurrent misses in one process share one promise, misses for several queues in the same tick
 *   go out as ONE query with one predicate per queue;
 * - across processes, a short Redis lock per queue makes one process call Genesys while the others
 *   poll the cache for its result (single flight);
 * - when Genesys cannot answer, the reading is `fail_open` with the reason (the caller applies DEFAULT_ROUTE).
 */
export function createOccupancyCache(opts: OccupancyCacheOptions): OccupancyCache {
  const { redis, ks, fetch, cacheMs } = opts;
  const lockMs = opts.lockMs ?? 5000;
  const failureCacheMs = opts.failureCacheMs ?? Math.min(Math.max(cacheMs, 200), 1000);
  const now = opts.now ?? Date.now;
  const token = `${process.pid}-${Math.random().toString(36).slice(2)}`;
  const stats: OccupancyStats = { analyticsCalls: 0, cacheHits: 0, waitedForPeer: 0, failOpen: 0 };
  const inflight = new Map<string, Promise<OccupancyReading>>();
  let pendingBatch: Map<string, { resolve: (r: OccupancyReading) => void; reject: (e: Error) => void }> | undefined;
  const release = defineScript<number>(redis, 'ivrOccRelease', 1, RELEASE);

  const occKey = ks.occupancy;
  const lockKey = ks.occupancyLock;


  /** Call Genesys once for every queue in the batch this process holds the lock for. */
  async function fetchAndStore(queues: string[]): Promise<Map<string, Cached>> {
    const out = new Map<string, Cached>();
    stats.analyticsCalls++;
    try {
      const res = await fetch(queues);
      const counts = observationsToCounts(queues, res as Parameters<typeof observationsToCounts>[1], now(), opts.mediaType);
      for (const q of queues) out.set(q, { o: counts.get(q)! });
    } catch (err) {
      const reason = `queue observations unavailable: ${(err as Error).message}`;
      for (const q of queues) out.set(q, { e: reason });
    }
    if (cacheMs > 0) {
      const p = redis.multi();
      for (const [q, c] of out) p.set(occKey(q), JSON.stringify(c), 'PX', 'e' in c ? failureCacheMs : cacheMs);
      await p.exec();
    }
    return out;
  }

  async function loadBatch(queues: string[]): Promise<Map<string, OccupancyReading>> {
    const result = new Map<string, OccupancyReading>();
    let missing = queues.filter((q) => !result.has(q));
    const deadline = now() + lockMs + 1000;
    let waited = false;
    let extra = (opts.companions ?? []).filter((q) => !queues.includes(q));
    while (missing.length) {
      let mine = [...missing, ...extra];
      if (cacheMs > 0) {
        // Each lock with a read of its figure in the same transaction: a peer that stored the figure and released its
        // lock between our read and our lock left the figure there, and we use it instead of a second Genesys call.
        const p = redis.multi();
        for (const q of mine) p.set(lockKey(q), token, 'PX', lockMs, 'NX').get(occKey(q));
        const got = (await p.exec()) ?? [];
        const toFetch: string[] = [];
        const storedByPeer: string[] = [];
        mine.forEach((q, i) => {
          if (got[2 * i]?.[1] !== 'OK') return; // a peer holds the lock: wait for its figure below
          const reading = parseCachedOccupancy(got[2 * i + 1]?.[1] as string | null);
          if (reading) {
            result.set(q, reading);
            storedByPeer.push(q);
          } else toFetch.push(q);
        });
        await Promise.all(storedByPeer.map((q) => release([lockKey(q)], [token])));
        mine = toFetch;
      }
      extra = []; // companions ride along with the first query only
      if (mine.length) {
        const fetched = await fetchAndStore(mine);
        for (const [q, c] of fetched) result.set(q, fromCached(c, 'poll'));
        if (cacheMs > 0) await Promise.all(mine.map((q) => release([lockKey(q)], [token])));
      }
      missing = missing.filter((q) => !result.has(q));
      if (!missing.length) break;
      // Another process is fetching these queues: wait for its result in the cache.
      if (!waited) {
        stats.waitedForPeer += missing.length;
        waited = true;
      }
      await new Promise((r) => setTimeout(r, 10));
      const vals = await redis.mget(missing.map(occKey));
      missing.forEach((q, i) => {
        const reading = parseCachedOccupancy(vals[i]);
        if (reading) result.set(q, reading);
      });
      missing = missing.filter((q) => !result.has(q));
      if (now() > deadline) {
        for (const q of missing) result.set(q, { source: 'fail_open', reason: 'timed out waiting for a peer worker to read queue observations' });
        break;
      }
    }
    return result;
  }

  function scheduleBatch(batch: NonNullable<typeof pendingBatch>): void {
    setImmediate(() => {
      pendingBatch = undefined;
      loadBatch([...batch.keys()]).then(
        (readings) => {
          for (const [q, w] of batch) w.resolve(readings.get(q) ?? { source: 'fail_open', reason: 'no reading' });
        },
        // Redis itself failed: the job retries (no decision is made on a guess while Redis is down).
        (err: Error) => {
          for (const w of batch.values()) w.reject(err);
        },
      );
    });
  }

  return {
    async get(queueId) {
      // Read even when cacheMs is 0: pushed figures (storePushedObservations) are there whatever OCCUPANCY_CACHE_MS says.
      const cached = await readCachedOccupancy(redis, ks, queueId);
      if (cached) {
        stats.cacheHits++;
        if (cached.source === 'fail_open') stats.failOpen++;
        return cached;
      }
      let p = inflight.get(queueId);
      if (!p) {
        p = new Promise<OccupancyReading>((resolve, reject) => {
          if (!pendingBatch) {
            pendingBatch = new Map();
            scheduleBatch(pendingBatch);
          }
          pendingBatch.set(queueId, { resolve, reject });
        }).finally(() => inflight.delete(queueId));
        inflight.set(queueId, p);
      }
      const r = await p;
      if (r.source === 'fail_open') stats.failOpen++;
      return r;
    },
    stats: () => ({ ...stats }),
  };
}

