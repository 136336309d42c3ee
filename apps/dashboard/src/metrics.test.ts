/** The dashboard's GET /metrics: its own HTTP series (route patterns, never raw paths), outside /admin like the receiver's. */
import { createMetrics, httpMetrics } from '@ivr/metrics';
import { createQueues } from '@ivr/queue-contract';
import { createEmbeddedStore } from '@ivr/reporting';
import { parseExposition, testRedis } from '@ivr/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { createDashboardApp } from './app';

describe('dashboard GET /metrics', () => {
  const r = testRedis('dash-metrics');
  afterAll(() => r.cleanup());

  it('times every request by method, route pattern and status code, and exports no queue or worker series', async () => {
    const queues = createQueues(r.redis, r.prefix, { applyAttempts: 3, applyBackoffMs: 100 });
    const metrics = createMetrics(undefined, { defaultMetrics: false });
    const app = createDashboardApp({
      queues: queues.all,
      store: createEmbeddedStore(r.redis, r.prefix),
      reportsDir: '/nonexistent',
      adminToken: 'tok-metrics-1',
      metrics: () => metrics.render(),
      httpMetrics: httpMetrics(metrics),
    });
    try {
      expect((await app.request('/healthz')).status).toBe(200);
      expect((await app.request('/admin/queues/api/queues')).status).toBe(401);
      const ok = await app.request('/admin/queues/api/queues', { headers: { Authorization: 'Bearer tok-metrics-1' } });
      expect(ok.status).toBe(200);
      const res = await app.request('/metrics');
      expect(res.status).toBe(200);
      const text = await res.text();
      const s = parseExposition(text);
      expect(s.get('http_request_duration_seconds_count{method=GET,route=/healthz,status_code=200}')).toBe(1);
      expect(s.get('http_request_duration_seconds_count{method=GET,route=/admin/queues/api/queues,status_code=200}')).toBe(1);
      expect([...s.keys()].filter((k) => k.startsWith('http_request_duration_seconds_count') && k.includes('status_code=401'))).toHaveLength(1);
      expect(text).not.toMatch(/^ivr_/m);
    } finally {
      await queues.close();
    }
  });
});
