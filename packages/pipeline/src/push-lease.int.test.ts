import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testRedis } from '@ivr/testing';
import { keyspace } from '@ivr/queue-contract';
import { createPushLease } from './push-lease';

describe('push lease (one notification channel holder per deployment)', () => {
  let t: ReturnType<typeof testRedis>;
  beforeEach(() => {
    t = testRedis('lease');
  });
  afterEach(() => t.cleanup());

  it('one holder at a time; only the holder renews or releases it; after a release another process takes it', async () => {
    const key = keyspace(t.prefix).occupancyPushLeader;
    const a = createPushLease(t.redis, key, 60_000);
    const b = createPushLease(t.redis, key, 60_000);
    expect(await a.acquire()).toBe(true);
    expect(await b.acquire()).toBe(false);
    expect(await a.renew()).toBe(true);
    expect(await b.renew()).toBe(false);
    await b.release(); // not b's: a keeps it
    expect(await a.renew()).toBe(true);
    await a.release();
    expect(await t.redis.exists(key)).toBe(0);
    expect(await b.acquire()).toBe(true);
    expect(await a.renew()).toBe(false);
  });

  it('renew extends the lease to leaseMs', async () => {
    const key = keyspace(t.prefix).occupancyPushLeader;
    const a = createPushLease(t.redis, key, 60_000);
    expect(await a.acquire()).toBe(true);
    await t.redis.pexpire(key, 1_000);
    expect(await a.renew()).toBe(true);
    expect(await t.redis.pttl(key)).toBeGreaterThan(50_000);
  });
});
