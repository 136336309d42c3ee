import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readsBeforePeer, testRedis, waitFor } from '@ivr/testing';
import { createOccupancyCache, type ObservationsFetcher } from './occupancy-cache';
import { keyspace } from '@ivr/queue-contract';

/** An observations source that answers like Genesys (zero metrics omitted) and records every call. */
function countingSource(idle: Record<string, number>, delayMs = 20) {
  const calls: string[][] = [];
  const fetch: ObservationsFetcher = async (queues) => {
    calls.push([...queues]);
    await new Promise((r) => setTimeout(r, delayMs));
    return {
      results: queues.map((q) => ({
        group: { queueId: q },
        data: idle[q] ? [{ metric: 'oOnQueueUsers', qualifier: 'IDLE', stats: { count: idle[q] } }] : [],
      })),
    };
  };
  return { calls, fetch };
}

describe('shared occupancy cache', () => {
  let t: ReturnType<typeof testRedis>;
  beforeEach(() => {
    t = testRedis('occ');
  });
  afterEach(() => t.cleanup());

  it('1,000 concurrent reads over 3 queues from 4 "processes" make one API call', async () => {
    const src = countingSource({ a: 3, b: 0, c: 7 });
    const caches = Array.from({ length: 4 }, () => createOccupancyCache({ redis: t.redis, ks: keyspace(t.prefix), fetch: src.fetch, cacheMs: 1000 }));
    const qs = ['a', 'b', 'c'];
    const readings = await Promise.all(Array.from({ length: 1000 }, (_, i) => caches[i % 4]!.get(qs[i % 3]!)));
    expect(readings.every((r) => r.source !== 'fail_open')).toBe(true);
    const idle = readings.map((r, i) => (r.source === 'fail_open' ? -1 : r.observation.idle) === { a: 3, b: 0, c: 7 }[qs[i % 3]!]);
    expect(idle.every(Boolean)).toBe(true);
    // All three queues missed in the same tick: at most one call per process holding a lock, batched.
    const totalQueriedQueues = src.calls.flat().length;
    expect(totalQueriedQueues).toBe(3);
    expect(src.calls.length).toBeLessThanOrEqual(3);
    expect(caches.reduce((n, c) => n + c.stats().analyticsCalls, 0)).toBe(src.calls.length);
  });

  it('a peer stored the figure and released its lock between this read and this lock: its figure is used, no second call', async () => {
    const src = countingSource({ a: 4 }, 0);
    const opts = { ks: keyspace(t.prefix), fetch: src.fetch, cacheMs: 60_000 };
    expect(await createOccupancyCache({ ...opts, redis: t.redis }).get('a')).toMatchObject({ source: 'poll', observation: { idle: 4 } });
    // The second process read before the peer stored (its first GET answers null), then finds the lock free.
    expect(await createOccupancyCache({ ...opts, redis: readsBeforePeer(t.redis) }).get('a')).toMatchObject({ source: 'cache', observation: { idle: 4 } });
    expect(src.calls).toEqual([['a']]);
    expect(await t.redis.exists(keyspace(t.prefix).occupancyLock('a'))).toBe(0); // its lock released
  });

  it('refreshes after OCCUPANCY_CACHE_MS', async () => {
    const src = countingSource({ a: 1 }, 0);
    const ks = keyspace(t.prefix);
    const cache = createOccupancyCache({ redis: t.redis, ks, fetch: src.fetch, cacheMs: 60_000 });
    await cache.get('a');
    await cache.get('a');
    expect(src.calls).toHaveLength(1);
    // the reading lives OCCUPANCY_CACHE_MS in Redis...
    const ttl = await t.redis.pttl(ks.occupancy('a'));
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    // ...then Redis drops it (its time run out now instead of waiting a minute) and the next read calls Genesys again
    await t.redis.pexpire(ks.occupancy('a'), 1);
    await waitFor(async () => (await t.redis.exists(ks.occupancy('a'))) === 0, 'the cached reading to expire', 5000, 5);
    await cache.get('a');
    expect(src.calls).toHaveLength(2);
    expect(cache.stats().cacheHits).toBe(1);
  });

  it('fails open with the reason when Genesys cannot answer, and does not hammer it', async () => {
    let calls = 0;
    const cache = createOccupancyCache({
      redis: t.redis,
      ks: keyspace(t.prefix),
      cacheMs: 1000,
      fetch: async () => {
        calls++;
        throw new Error('connect ECONNREFUSED 127.0.0.1:4010');
      },
    });
    const r = await Promise.all(Array.from({ length: 50 }, () => cache.get('a')));
    expect(r.every((x) => x.source === 'fail_open' && x.reason.includes('ECONNREFUSED'))).toBe(true);
    expect(calls).toBe(1);
  });
});

describe('companion queues', () => {
  it('a miss on one policy queue refreshes its companions in the same query, so they expire together', async () => {
    const t = testRedis('occ2');
    try {
      const src = countingSource({ a: 1, b: 2, c: 3 }, 0);
      const cache = createOccupancyCache({ redis: t.redis, ks: keyspace(t.prefix), fetch: src.fetch, cacheMs: 1000, companions: ['a', 'b', 'c'] });
      await cache.get('a');
      const [b, c] = await Promise.all([cache.get('b'), cache.get('c')]);
      expect(src.calls).toEqual([['a', 'b', 'c']]);
      expect(b.source === 'cache' && b.observation.idle).toBe(2);
      expect(c.source === 'cache' && c.observation.idle).toBe(3);
    } finally {
      await t.cleanup();
    }
  });
});
