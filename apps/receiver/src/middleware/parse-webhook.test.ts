import { describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { errorBody, HttpError } from '@ivr/core';
import { parseWebhook } from './parse-webhook';
import type { ReceiverEnv } from './webhook-env';

/** parseWebhook in front of a handler that shows what it handed on (`webhook`). */
function app(outcomes: string[]) {
  const a = new Hono<ReceiverEnv>();
  a.post('/', parseWebhook((o) => outcomes.push(o)), (c) => {
    const w = c.get('webhook');
    return c.json({ event: w.event, key: w.key, digest: w.digest });
  });
  a.onError((err, c) => (err instanceof HttpError ? c.json(errorBody(err.code, err.message), err.status) : c.text('unexpected', 500)));
  return a;
}
const post = (outcomes: string[], body: string, headers: Record<string, string> = {}) => app(outcomes).request('/', { method: 'POST', body, headers });

describe('parseWebhook', () => {
  it('hands on the normalised event and the key (Idempotency-Key header first)', async () => {
    const outcomes: string[] = [];
    const res = await post(outcomes, JSON.stringify({ flowInstanceId: 'flow-1', participants: [{ id: 'cust-1', input: { dtmf: '3' } }] }), { 'idempotency-key': 'k-1', 'webhook-id': 'w-1' });
    expect(res.status).toBe(200);
    const got = (await res.json()) as { event: object; key: object; digest: string };
    expect(got.event).toMatchObject({ conversationId: 'flow-1', participantId: 'cust-1', dtmf: '3', source: 'tutorial' });
    expect(got.key).toEqual({ ok: true, key: 'k-1', from: 'header', space: 'client' });
    expect(got.digest).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(outcomes).toEqual([]);
  });

  it('no DTMF: answers 200 skipped itself and counts it', async () => {
    const outcomes: string[] = [];
    const res = await post(outcomes, JSON.stringify({ conversationId: 'c-1', dtmf: '' }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'skipped', reason: 'no_dtmf' });
    expect(outcomes).toEqual(['skipped']);
  });

  it('refuses with 400 and the code of the problem', async () => {
    const cases: Array<[string, Record<string, string>, string]> = [
      ['{"conversationId":', {}, 'invalid_json'],
      ['['.repeat(40) + ']'.repeat(40), {}, 'too_deep'],
      [JSON.stringify({ conversationId: 'c 1', dtmf: '1' }), {}, 'invalid_payload'],
      [JSON.stringify({ conversationId: 'c-1', dtmf: '1' }), { 'idempotency-key': 'two words' }, 'invalid_idempotency_key'],
    ];
    for (const [body, headers, code] of cases) {
      const res = await post([], body, headers);
      expect(res.status, code).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
    }
  });
});
