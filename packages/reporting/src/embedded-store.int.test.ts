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
