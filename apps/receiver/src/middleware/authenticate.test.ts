import { describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { errorBody, HttpError } from '@ivr/core';
import { authenticate } from './authenticate';
import { createAuthenticator } from './authenticator';

const TOKEN = 'a-shared-token-of-32-characters!';

/** authenticate in front of a handler that echoes the body it reads after the step (the body stays readable). */
function app(check: Parameters<typeof authenticate>[0]) {
  const a = new Hono();
  a.post('/', authenticate(check), async (c) => c.text(await c.req.text()));
  a.onError((err, c) => (err instanceof HttpError ? c.json(errorBody(err.code, err.message), err.status) : c.text('unexpected', 500)));
  return a;
}

describe('authenticate', () => {
  it('without an authenticator every request passes and the body is untouched', async () => {
    const res = await app(undefined).request('/', { method: 'POST', body: '{"a":1}' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"a":1}');
  });

  it('with WEBHOOK_TOKEN: the right token passes, the body is still readable by the next step', async () => {
    const res = await app(createAuthenticator({ webhookToken: TOKEN })).request('/', { method: 'POST', body: 'raw bytes', headers: { 'x-webhook-token': TOKEN } });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('raw bytes');
  });

  it('a missing or wrong token is the authenticator 401, and the handler is not reached', async () => {
    const a = app(createAuthenticator({ webhookToken: TOKEN }));
    const missing = await a.request('/', { method: 'POST', body: '{}' });
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual(errorBody('missing_token', 'X-Webhook-Token header is required'));
    const wrong = await a.request('/', { method: 'POST', body: '{}', headers: { 'x-webhook-token': 'nope' } });
    expect(await wrong.json()).toEqual(errorBody('invalid_token', 'X-Webhook-Token does not match WEBHOOK_TOKEN'));
  });

  it('the authenticator sees the raw body and the request headers', async () => {
    const seen: Array<{ body: string; id: string | null }> = [];
    const res = await app(({ headers, body }) => void seen.push({ body, id: headers.get('webhook-id') })).request('/', { method: 'POST', body: ' {"x": 1} ', headers: { 'webhook-id': 'msg-1' } });
    expect(res.status).toBe(200);
    expect(seen).toEqual([{ body: ' {"x": 1} ', id: 'msg-1' }]);
  });
});
