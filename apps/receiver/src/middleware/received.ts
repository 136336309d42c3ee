import type { MiddlewareHandler } from 'hono';
import type { ReceiverEnv } from './webhook-env';

/** Stamps `receivedAt` (the event's receive time, and the start of a `Prefer: wait`) with the app's clock. */
export function received(now: () => number): MiddlewareHandler<ReceiverEnv> {
  return async function received(c, next) {
    c.set('receivedAt', now());
    await next();
  };
}
