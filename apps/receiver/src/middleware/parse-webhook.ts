import type { MiddlewareHandler } from 'hono';
import { HttpError, readWebhook } from '@ivr/core';
import type { Observe, ReceiverEnv } from './webhook-env';

/**
 * Reads the body into an event and its idempotency key (`readWebhook`): a refusal is a 400 naming the problem; a
 * payload without DTMF is answered `200 skipped` (the tutorial's behaviour) and goes no further.
 */
export function parseWebhook(observe: Observe): MiddlewareHandler<ReceiverEnv> {
  return async function parseWebhook(c, next) {
    const r = readWebhook(await c.req.text(), { idempotencyKey: c.req.header('idempotency-key'), webhookId: c.req.header('webhook-id') });
    if (r.kind === 'invalid') throw new HttpError(400, r.code, r.message);
    if (r.kind === 'no_dtmf') {
      observe('skipped');
      return c.json({ status: 'skipped', reason: 'no_dtmf' }, 200);
    }
    c.set('webhook', { event: r.event, body: r.body, digest: r.digest, key: r.key });
    await next();
  };
}
