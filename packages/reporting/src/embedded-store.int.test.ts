import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { testRedis } from '@ivr/testing';
import { describeDecisionStoreContract, makeDoc } from './contract';
import { createEmbeddedStore } from './embedded-store';
import { StoreUnavailableError } from './store';

describeDecisionStoreContract('embedded (Redis)', async () => {
  const t = testRedis('store');
  return {
    store: createEmbeddedStore(t.redis, t.prefix),
    read: async (id: string) => {
      const raw = await t.redis.hget(`${t.prefix}:ivr:store:docs`, id);
      return raw ? (JSON.parse(raw) as Record<string, unknown>) : undefined;
    },
    cleanup: t.cleanup,
  };
});

describe('embedded store', () => {
  it('keeps its keys under {prefix}:ivr:store:*', async () => {
    const t = testRedis('storekeys');
    try {
      const store = createEmbeddedStore(t.redis, t.prefix);
      await store.writeBatch([makeDoc(1)]);
      const keys = await t.redis.keys(`${t.prefix}:*`);
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.every((k) => k.startsWith(`${t.prefix}:ivr:store:`))).toBe(true);
    } finally {
      await t.cleanup();
    }
  });

  it('reads all-time heatmap and count in one request each', async () => {
    const t = testRedis('storereq');
    try {
      const store = createEmbeddedStore(t.redis, t.prefix);
      await store.writeBatch([makeDoc(1), makeDoc(2)]);
      const before = store.requests();
      await store.heatmap();
      await store.count();
      await store.heatmap({ from: '2024-01-01T00:00:00Z' });
      await store.count({ to: '2030-01-01T00:00:00Z' });
      expect(store.requests() - before).toBe(4);
    } finally {
      await t.cleanup();
    }
  });

  it('throws StoreUnavailableError when Redis cannot be reached', async () => {
    const redis = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    redis.on('error', () => {});
    const store = createEmbeddedStore(redis, 'unreachable');
    await expect(store.writeBatch([makeDoc(1)])).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.heatmap()).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.count({ from: '2024-01-01T00:00:00Z' })).rejects.toBeInstanceOf(StoreUnavailableError);
    redis.disconnect();
  });
});

describe('embedded store retention (STORE_RETENTION_DAYS, issue 13 item 8)', () => {
  it('removes decisions older than the retention with their counts: the all-time heatmap equals that of the kept ones', async () => {
    const t = testRedis('storeret');
    const ref = testRedis('storeref');
    try {
      const DAY = 86_400_000;
      const now = Date.parse('2026-06-30T12:00:00Z');
      const at = (daysAgo: number, i: number, over: Parameters<typeof makeDoc>[1] = {}) =>
        makeDoc(i, { timestamp: new Date(now - daysAgo * DAY - i * 1000).toISOString(), ...over });
      // Some with an estimated wait (every 3rd, .5 s steps), so the wait counters are pruned too.
      const wait = (i: number) => (i % 3 === 0 ? { estimatedWaitS: (i % 50) * 2.5 } : {});
      const old = Array.from({ length: 700 }, (_, i) => at(31 + (i % 40), i, { dtmf: String(i % 4), routing_decision: i % 3 ? 'route_to_queue' : 'route_to_vm', queue_occupancy: i % 12, ...wait(i) }));
      const kept = Array.from({ length: 300 }, (_, i) => at(i % 30, 1000 + i, { dtmf: String(i % 5), routing_decision: i % 2 ? 'route_to_queue' : 'route_to_vm', queue_occupancy: i % 7, ...wait(i) }));
      const store = createEmbeddedStore(t.redis, t.prefix, { retentionDays: 30, now: () => now });
      await store.writeBatch([...old, ...kept]);
      await store.prune(); // the write also started one in the background: ZREM makes each removal happen once
      const reference = createEmbeddedStore(ref.redis, ref.prefix, { retentionDays: 30, now: () => now });
      await reference.writeBatch(kept);
      expect(await store.heatmap()).toEqual(await reference.heatmap());
      expect((await store.heatmap()).wait.totals).toMatchObject({ decisions: 300, withFigure: 100 });
      expect(await store.count()).toBe(300);
      expect(await t.redis.hlen(`${t.prefix}:ivr:store:docs`)).toBe(300);
      expect(await t.redis.zcard(`${t.prefix}:ivr:store:by-time`)).toBe(300);
      expect(await store.prune()).toBe(0); // idempotent
    } finally {
      await t.cleanup();
      await ref.cleanup();
    }
  });

  it('runs at start (init) and after writes, at most once a minute', async () => {
    const t = testRedis('storeret2');
    try {
      let now = Date.parse('2026-06-30T12:00:00Z');
      const first = createEmbeddedStore(t.redis, t.prefix, { retentionDays: 1, now: () => now });
      await first.writeBatch([makeDoc(1, { timestamp: new Date(now - 1000).toISOString() })]);
      now += 2 * 86_400_000; // two days later, a restart
      const again = createEmbeddedStore(t.redis, t.prefix, { retentionDays: 1, now: () => now });
      await again.init();
      expect(await again.count()).toBe(0);
    } finally {
      await t.cleanup();
    }
  });
});

describe('embedded store without a retention (a direct createEmbeddedStore, as tests use)', () => {
  it('keeps old decisions', async () => {
    const t = testRedis('storeret3');
    try {
      const store = createEmbeddedStore(t.redis, t.prefix);
      await store.writeBatch([makeDoc(1, { timestamp: '2001-01-01T00:00:00Z' })]);
      expect(await store.prune()).toBe(0);
      expect(await store.count()).toBe(1);
    } finally {
      await t.cleanup();
    }
  });
});
