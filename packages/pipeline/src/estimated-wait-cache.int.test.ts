import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readsBeforePeer, testRedis } from '@ivr/testing';
import { createEstimatedWaitCache } from './estimated-wait-cache';
import { keyspace } from '@ivr/queue-contract';

describe('shared estimated-wait cache', () => {
  let t: ReturnType<typeof testRedis>;
  beforeEach(() => {
    t = testRedis('ewt');
  });
  afterEach(() => t.cleanup());

  it('300 concurrent reads from 3 "processes" make one call per queue; the others read its answer', async () => {
    const calls: string[] = [];
    const fetch = async (q: string) => {
      calls.push(q);
      await new Promise((r) => setTimeout(r, 30));
      return q === 'a' ? 42 : 7;
    };
    // Cache and lock far longer than the test: on a loaded box a 1 s entry could expire between the holder's write
    // and a peer's read (a second call that is the test's timing, not the cache's).
    const caches = Array.from({ length: 3 }, () => createEstimatedWaitCache({ redis: t.redis, ks: keyspace(t.prefix), fetch, cacheMs: 60_000, lockMs: 30_000 }));
    const readings = await Promise.all(Array.from({ length: 300 }, (_, i) => caches[i % 3]!.get(i % 2 ? 'a' : 'b')));
    expect(calls.sort()).toEqual(['a', 'b']);
    expect(readings.every((r, i) => r.source !== 'fail_open' && r.seconds === (i % 2 ? 42 : 7))).toBe(true);
    // The processes that did not get the lock read the holder's answer from Redis.
    expect(readings.some((r) => r.source === 'cache')).toBe(true);
  });

  it('a peer stored the figure and released its lock between this read and this lock: its figure is used, no second call', async () => {
    const calls: string[] = [];
    const fetch = async (q: string) => (calls.push(q), 42);
    const opts = { ks: keyspace(t.prefix), fetch, cacheMs: 60_000, lockMs: 30_000 };
    expect(await createEstimatedWaitCache({ ...opts, redis: t.redis }).get('a')).toEqual({ source: 'poll', seconds: 42 });
    // The second process read before the peer stored (its first GET answers null), then finds the lock free.
    expect(await createEstimatedWaitCache({ ...opts, redis: readsBeforePeer(t.redis) }).get('a')).toEqual({ source: 'cache', seconds: 42 });
    expect(calls).toEqual(['a']);
    expect(await t.redis.exists(keyspace(t.prefix).estimatedWaitLock('a'))).toBe(0); // its lock released
  });

  it('a failure is fail_open with the reason, and shared for cacheMs (no second call)', async () => {
    let n = 0;
    const cache = createEstimatedWaitCache({
      redis: t.redis,
      ks: keyspace(t.prefix),
      fetch: async () => {
        n++;
        throw new Error('Genesys 503 service.unavailable');
      },
      cacheMs: 1000,
      lockMs: 2000,
    });
    expect(await cache.get('a')).toEqual({ source: 'fail_open', reason: 'estimated wait unavailable: Genesys 503 service.unavailable' });
    expect(await cache.get('a')).toMatchObject({ source: 'fail_open' });
    expect(n).toBe(1);
  });
});
