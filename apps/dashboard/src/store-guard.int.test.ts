/**
 * The dashboard with its decision store down (issue 13 item 2): it starts and serves, every page says "store
 * unavailable" with the reason, queues stay visible, and it recovers by itself when the store answers again.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { Redis } from 'ioredis';
import { createQueues, type IvrQueues } from '@ivr/queue-contract';
import { createElasticsearchStore, createEmbeddedStore } from '@ivr/reporting';
import { makeDoc } from '@ivr/reporting/fixtures';
import { freePort, TEST_REDIS_URL, testRedis, waitFor } from '@ivr/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboardApp } from './app';
import { guardStore } from './store-guard';

const HTML = { accept: 'text/html' };

/** A TCP proxy to the test Redis that can be switched off and on (a real outage, not a fake store). */
function redisProxy(port: number) {
  const target = new URL(TEST_REDIS_URL);
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  return {
    up: () =>
      new Promise<void>((resolve) => {
        server = createServer((client) => {
          const upstream = connect(Number(target.port || 6379), target.hostname);
          for (const s of [client, upstream]) {
            sockets.add(s);
            s.on('error', () => s.destroy());
            s.on('close', () => sockets.delete(s));
          }
          client.pipe(upstream).pipe(client);
        });
        server.listen(port, '127.0.0.1', () => resolve());
      }),
    down: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        if (!server) return resolve();
        server.close(() => resolve());
      }),
  };
}

describe('dashboard with the decision store down', () => {
  const r = testRedis('dash-store');
  let queues: IvrQueues;
  let reportsDir: string;

  beforeAll(async () => {
    queues = createQueues(r.redis, r.prefix, { applyAttempts: 2, applyBackoffMs: 100 });
    reportsDir = await mkdtemp(join(tmpdir(), 'ivr-dash-store-'));
  });
  afterAll(async () => {
    await queues?.close();
    await r.cleanup();
    if (reportsDir) await rm(reportsDir, { recursive: true, force: true });
  });

  it('Elasticsearch unreachable at start: serves every page, says why, keeps the queues visible', async () => {
    const client = new Client({ node: 'http://127.0.0.1:1', maxRetries: 0, requestTimeout: 2000 });
    const es = createElasticsearchStore({ node: 'http://127.0.0.1:1', client });
    const store = guardStore(es, { retryMs: 0 });
    await store.init(); // fails, does not throw: main.ts starts anyway
    expect(store.ready()).toBe(false);
    const app = createDashboardApp({ queues: queues.all, store, reportsDir });

    const home = await app.request('/admin', { headers: HTML });
    expect(home.status).toBe(200);
    const html = await home.text();
    expect(html).toContain('id="store-unavailable"');
    expect(html).toMatch(/Elasticsearch unavailable \(index template\)/);
    expect(html).toContain('id="status-backlog"');

    const heat = await app.request('/admin/heatmap?range=1h', { headers: HTML });
    expect(heat.status).toBe(503);
    expect(await heat.text()).toMatch(/decision store unavailable: decision store \(elasticsearch\) not ready: Elasticsearch unavailable/);
    const api = await app.request('/admin/heatmap', { headers: { accept: 'application/json' } });
    expect(api.status).toBe(503);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('store_unavailable');
    expect((await app.request('/admin/queues/api/queues')).status).toBe(200);
    await client.close();
  });

  it('recovers by itself when the store comes back (embedded store behind a Redis outage)', async () => {
    const port = await freePort();
    const proxy = redisProxy(port);
    const storeRedis = new Redis(`redis://127.0.0.1:${port}`, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 50 });
    storeRedis.on('error', () => {});
    const store = guardStore(createEmbeddedStore(storeRedis, r.prefix), { retryMs: 0 });
    await store.init();
    const app = createDashboardApp({ queues: queues.all, store, reportsDir });

    const down = await app.request('/admin', { headers: HTML });
    expect(down.status).toBe(200);
    expect(await down.text()).toMatch(/id="store-unavailable"[\s\S]*embedded decision store \(Redis\) unavailable/);

    await proxy.up();
    await storeRedis.connect().catch(() => undefined);
    await waitFor(async () => !(await (await app.request('/admin', { headers: HTML })).text()).includes('store-unavailable'), 'the status page to recover', 10000, 100);
    // A second in the past: a range's end is exclusive, and on a fast box the page can be asked for within the
    // same millisecond as the decision's timestamp (CI saw total 0 that way).
    await createEmbeddedStore(r.redis, r.prefix).writeBatch([makeDoc(1, { timestamp: new Date(Date.now() - 1000).toISOString() })]);
    const heat = await app.request('/admin/heatmap?range=15m', { headers: HTML });
    expect(heat.status).toBe(200);
    expect(await heat.text()).toContain('data-field="total">1<');

    storeRedis.disconnect();
    await proxy.down();
  });
});
