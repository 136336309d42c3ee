import type { MiddlewareHandler } from 'hono';
import { monotonicNow, type ReceiverEnv } from './webhook-env';

/**
 * Stamps `receivedAt` (the event's receive time, and the start of a `Prefer: wait`) with the app's clock, and the
 * start of the `Server-Timing` stages with the monotonic one.
 */
export function received(now: () => number, hrNow: () => number = monotonicNow): MiddlewareHandler<ReceiverEnv> {
  return async function received(c, next) {
    c.set('receivedAt', now());
    c.set('timing', { startedAt: hrNow() });
    await next();
  };
}
