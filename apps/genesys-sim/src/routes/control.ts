import { Hono, type Context } from 'hono';
import { validateFault } from '../faults';
import type { SimState } from '../state';
import type { QueueCounts } from '../types';
import { conversationBody, notFoundConversation } from './api';

function badRequest(c: Context, message: string) {
  return c.json({ error: message }, 400);
}

function parseCounts(body: unknown): Partial<QueueCounts> | string {
  if (typeof body !== 'object' || body === null) return 'body must be {"idle","interacting","waiting"} (non-negative integers)';
  const out: Partial<QueueCounts> = {};
  for (const key of ['idle', 'interacting', 'waiting', 'alerting'] as const) {
    const value = (body as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (!Number.isInteger(value) || (value as number) < 0) return `${key} must be a non-negative integer`;
    out[key] = value as number;
  }
  return out;
}

async function json(c: Context): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    return undefined;
  }
}

/** Test control under /__sim: no auth, never part of the Genesys API. */
export function controlRoutes(state: SimState): Hono {
  const control = new Hono();

  control.put('/queues/:queueId', async (c) => {
    const counts = parseCounts(await json(c));
    if (typeof counts === 'string') return badRequest(c, counts);
    return c.json({ queueId: c.req.param('queueId'), ...state.setQueue(c.req.param('queueId'), counts) });
  });
  control.get('/queues', (c) => c.json(Object.fromEntries(state.queues)));

  control.get('/calls', (c) => {
    const since = Number(c.req.query('since') ?? 0);
    if (!Number.isInteger(since) || since < 0) return badRequest(c, 'since must be a non-negative integer index');
    return c.json({ total: state.calls.size, calls: state.calls.list(since, c.req.query('endpoint')) });
  });

  control.get('/conversations/:cid', (c) => {
    const conversation = state.conversations.get(c.req.param('cid'));
    if (!conversation) return c.json(notFoundConversation(c.req.param('cid')), 404);
    return c.json(conversationBody(conversation));
  });

  control.post('/faults', async (c) => {
    const spec = validateFault(await json(c));
    if (typeof spec === 'string') return badRequest(c, spec);
    return c.json({ active: state.addFault(spec) }, 201);
  });
  control.get('/faults', (c) => c.json(state.faults));
  control.delete('/faults', (c) => {
    const cleared = state.faults.length;
    state.faults = [];
    return c.json({ cleared });
  });

  control.post('/tokens/expire', (c) => c.json({ expired: state.expireTokens() }));

  control.put('/config', async (c) => {
    const body = (await json(c)) as Record<string, unknown> | undefined;
    if (typeof body?.tokenTtlS === 'number' && body.tokenTtlS > 0) state.tokenTtlS = body.tokenTtlS;
    if (typeof body?.clientId === 'string') state.clientId = body.clientId;
    if (typeof body?.clientSecret === 'string') state.clientSecret = body.clientSecret;
    return c.json({ tokenTtlS: state.tokenTtlS, clientId: state.clientId });
  });

  control.post('/reset', (c) => {
    state.reset();
    return c.json({ ok: true });
  });

  control.get('/stats', (c) => c.json({ ...state.calls.stats(), tokensIssued: state.tokensIssued, activeTokens: state.tokens.size }));

  return control;
}
