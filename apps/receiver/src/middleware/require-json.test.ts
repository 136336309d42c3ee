import { describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { errorBody, HttpError } from '@ivr/core';
import { requireJson } from './require-json';

/** requireJson alone in front of a handler that answers 204; an HttpError is rendered as the receiver does. */
function app() {
  const a = new Hono();
  a.post('/', requireJson(), (c) => c.body(null, 204));
  a.onError((err, c) => (err instanceof HttpError ? c.json(errorBody(err.code, err.message), err.status) : c.text('unexpected', 500)));
  return a;
}
const send = (contentType?: string) => app().request('/', { method: 'POST', body: '{}', headers: contentType === undefined ? {} : { 'content-type': contentType } });

describe('requireJson', () => {
  it('lets JSON media types through, with parameters, any case, and structured +json types', async () => {
    for (const ct of ['application/json', 'application/json; charset=utf-8', 'Application/JSON', 'application/vnd.genesys+json']) {
      expect((await send(ct)).status, ct).toBe(204);
    }
  });

  it('refuses anything else with 415 naming what was sent (cut to 100 characters)', async () => {
    const res = await send('text/plain');
    expect(res.status).toBe(415);
    expect(await res.json()).toEqual(errorBody('unsupported_media_type', 'Content-Type must be application/json (got "text/plain")'));
    for (const ct of ['application/jsonx', 'application/x-www-form-urlencoded', 'json']) expect((await send(ct)).status, ct).toBe(415);
    const long = await send(`text/${'x'.repeat(200)}`);
    expect(((await long.json()) as { error: { message: string } }).error.message).toBe(`Content-Type must be application/json (got ${JSON.stringify(`text/${'x'.repeat(95)}`)})`);
  });

  it('no Content-Type at all: 415', async () => {
    const res = await app().request('/', { method: 'POST', body: new Uint8Array([123, 125]) });
    expect(res.status).toBe(415);
    expect(await res.json()).toEqual(errorBody('unsupported_media_type', 'Content-Type must be application/json (got "")'));
  });
});
