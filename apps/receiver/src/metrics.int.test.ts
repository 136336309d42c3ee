/** The receiver's GET /metrics (startReceiver, real Redis): conventional HTTP series and only the receiver's own series. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@ivr/config';
import { parseExposition, silentLogger, testRedis } from '@ivr/testing';
import { startReceiver, type RunningReceiver } from './server';

describe('receiver GET /metrics', () => {
  const t = testRedis('recv-metrics');
  let r: RunningReceiver;
  beforeAll(async () => {
    const config = loadConfig({ REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', QUEUE_PREFIX: t.prefix, RECEIVER_PORT: '0', RECEIVER_HOST: '127.0.0.1', LOG_LEVEL: 'silent' });
    r = await startReceiver(config, silentLogger as never);
  });
  afterAll(async () => {
    await r.close();
    await t.cleanup();
  });

  it('http_request_duration_seconds by method, route pattern and status code; ivr_webhooks_total kept; no worker series', async () => {
    const post = (body: string, ct = 'application/json') => fetch(`${r.url}/webhook/genesys-dtmf`, { method: 'POST', headers: { 'content-type': ct }, body });
    expect((await post(JSON.stringify({ conversationId: 'm-1', participantId: 'p', dtmf: '1' }))).status).toBe(202);
    expect((await post('{not json')).status).toBe(400);
    expect((await post('{}', 'text/plain')).status).toBe(415);
    expect((await fetch(`${r.url}/no/such/conv-secret-123`)).status).toBe(404);

    const text = await (await fetch(`${r.url}/metrics`)).text();
    const s = parseExposition(text);
    const count = (route: string, code: number, method = 'POST') => s.get(`http_request_duration_seconds_count{method=${method},route=${route},status_code=${code}}`);
    expect(count('/webhook/genesys-dtmf', 202)).toBe(1);
    expect(count('/webhook/genesys-dtmf', 400)).toBe(1);
    expect(count('/webhook/genesys-dtmf', 415)).toBe(1);
    expect(count('unmatched', 404, 'GET')).toBe(1);
    expect(text).not.toContain('conv-secret-123');
    expect(s.get('ivr_webhooks_total{outcome=accepted}')).toBe(1);
    expect(s.get('ivr_webhooks_total{outcome=error_400}')).toBe(1);
    expect(s.get('ivr_queue_oldest_job_age_seconds{queue=ivr-events}')).toBeGreaterThanOrEqual(0);
    expect(s.get('ivr_queue_paused{queue=genesys-writes}')).toBe(0);
    // Worker series are not on the receiver at all (not even as zeros).
    for (const name of ['ivr_jobs_total', 'ivr_decisions_total', 'ivr_decision_latency_seconds', 'ivr_occupancy_cache_hits_total', 'ivr_store_documents_total', 'ivr_genesys_requests_total']) {
      expect(text, name).not.toContain(`# TYPE ${name} `);
    }
  });
});
