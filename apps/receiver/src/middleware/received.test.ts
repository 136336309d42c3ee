import { describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { received } from './received';
import type { ReceiverEnv } from './webhook-env';

describe('received', () => {
  it('stamps receivedAt with the injected clock, once per request, before the next step runs', async () => {
    let t = 1000;
    const a = new Hono<ReceiverEnv>();
    a.post('/', received(() => (t += 5)), (c) => c.text(String(c.get('receivedAt'))));
    expect(await (await a.request('/', { method: 'POST' })).text()).toBe('1005');
    expect(await (await a.request('/', { method: 'POST' })).text()).toBe('1010');
  });
});
