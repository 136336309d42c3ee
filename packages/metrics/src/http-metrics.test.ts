import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { httpMetrics, UNMATCHED_ROUTE } from './http-metrics';
import { createMetrics } from './metrics';
import { parseExposition } from '@ivr/testing';

describe('httpMetrics (Hono middleware -> http_request_duration_seconds)', () => {
  it('labels by method, route pattern (never the raw path) and status code, including onError and notFound answers', async () => {
    const m = createMetrics(undefined, { defaultMetrics: false });
    let t = 0;
    const app = new Hono();
    app.use('*', httpMetrics(m, () => t));
    app.get('/items/:id', (c) => {
      t += 250; // the handler "takes" 250 ms on the injected clock
      return c.json({ id: c.req.param('id') });
    });
    app.post('/boom', () => {
      throw new Error('broken');
    });
    app.onError((_e, c) => c.json({ error: 'internal' }, 500));
    app.notFound((c) => c.json({ error: 'not found' }, 404));

    for (const id of ['a', 'b', 'ABC-123']) expect((await app.request(`/items/${id}`)).status).toBe(200);
    expect((await app.request('/boom', { method: 'POST' })).status).toBe(500);
    expect((await app.request('/no/such/path-with-id-42')).status).toBe(404);

    const text = await m.render();
    const s = parseExposition(text);
    const count = (labels: string) => s.get(`http_request_duration_seconds_count{${labels}}`);
    expect(count('method=GET,route=/items/:id,status_code=200')).toBe(3);
    expect(s.get('http_request_duration_seconds_sum{method=GET,route=/items/:id,status_code=200}')).toBeCloseTo(0.75, 6);
    expect(count('method=POST,route=/boom,status_code=500')).toBe(1);
    expect(count(`method=GET,route=${UNMATCHED_ROUTE},status_code=404`)).toBe(1);
    // Raw paths never become label values.
    for (const raw of ['/items/a', 'ABC-123', 'path-with-id-42']) expect(text).not.toContain(raw);
  });

  it('exports the histogram (HELP/TYPE) from installation, before any request', async () => {
    const m = createMetrics(undefined, { defaultMetrics: false });
    httpMetrics(m);
    expect(await m.render()).toContain('# TYPE http_request_duration_seconds histogram');
  });
});
