import type { MiddlewareHandler } from 'hono';
import { decideFaults } from '../faults';
import { genesysError } from '../genesys-error';
import type { SimState } from '../state';
import { classifyPath, type SimEnv } from './env';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Records every non-control call (method, path, status, endpoint) after it is answered. */
export function recorder(state: SimState): MiddlewareHandler<SimEnv> {
  return async (c, next) => {
    const path = c.req.path;
    if (path.startsWith('/__sim')) return next();
    const endpoint = classifyPath(path);
    c.set('endpoint', endpoint);
    await next();
    state.calls.record(c.req.method, path, c.res.status, endpoint);
  };
}

/** Requires `Authorization: Bearer <valid token>`; answers 401 bad.credentials like Genesys otherwise. */
export function bearer(state: SimState): MiddlewareHandler<SimEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1] || !state.isValidToken(match[1])) {
      return c.json(genesysError(401, 'Invalid login credentials.', 'bad.credentials'), 401);
    }
    return next();
  };
}

/** Applies the active faults (latency, then an injected status with Retry-After where relevant). */
export function faultInjector(state: SimState): MiddlewareHandler<SimEnv> {
  return async (c, next) => {
    if (state.faults.length === 0 || c.req.path.startsWith('/__sim')) return next();
    const decision = decideFaults(state.faults, c.get('endpoint'), c.req.path);
    if (!decision) return next();
    if (decision.latencyMs > 0) await sleep(decision.latencyMs);
    if (decision.status === undefined) return next();
    const body = decision.status === 429
      ? genesysError(429, `Rate limit exceeded the maximum. Retry the request in [${decision.retryAfterS ?? 1}] seconds`)
      : genesysError(decision.status);
    if (decision.retryAfterS !== undefined) c.header('Retry-After', String(decision.retryAfterS));
    return c.json(body, decision.status as 400);
  };
}
