import { Hono, type Context } from 'hono';
import { genesysError } from '../genesys-error';
import { observe, parseObservationQuery } from '../observations';
import type { SimState } from '../state';
import type { SimConversation } from '../types';
import type { SimEnv } from './env';

async function jsonBody(c: Context<SimEnv>): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    return undefined;
  }
}

/** Validates `{"attributes":{...}}` with string values; returns the attributes or an error message. */
function parseAttributes(body: unknown): Record<string, string> | string {
  if (typeof body !== 'object' || body === null) return 'Request body must be a JSON object {"attributes":{...}}';
  const attributes = (body as Record<string, unknown>).attributes;
  if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) return 'attributes must be an object of string values';
  for (const [key, value] of Object.entries(attributes)) {
    if (typeof value !== 'string') return `attributes.${key} must be a string (got ${value === null ? 'null' : typeof value})`;
  }
  return attributes as Record<string, string>;
}

export function conversationBody(conversation: SimConversation): SimConversation {
  return {
    id: conversation.id,
    participants: conversation.participants.map((p) => ({ id: p.id, purpose: p.purpose, attributes: { ...p.attributes } })),
  };
}

export function notFoundConversation(conversationId: string) {
  return genesysError(404, `Conversation ${conversationId} not found`, 'not.found');
}

/** The Genesys Cloud API surface the product uses, mounted at /api/v2. */
export function apiRoutes(state: SimState): Hono<SimEnv> {
  const api = new Hono<SimEnv>();

  api.post('/analytics/queues/observations/query', async (c) => {
    const query = parseObservationQuery(await jsonBody(c));
    if (typeof query === 'string') return c.json(genesysError(400, query, 'bad.request'), 400);
    const results = query.queueIds.map((id) => observe(id, query.metrics, state.queue(id)));
    return c.json({ results });
  });

  api.patch('/conversations/calls/:cid/participants/:pid/attributes', async (c) => {
    const attributes = parseAttributes(await jsonBody(c));
    if (typeof attributes === 'string') return c.json(genesysError(400, attributes, 'bad.request'), 400);
    const participant = state.mergeAttributes(c.req.param('cid'), c.req.param('pid'), attributes);
    return c.json({ attributes: { ...participant.attributes } }, 202);
  });

  api.patch('/conversations/:cid/participants/:pid/attributes', async (c) => {
    const attributes = parseAttributes(await jsonBody(c));
    if (typeof attributes === 'string') return c.json(genesysError(400, attributes, 'bad.request'), 400);
    state.mergeAttributes(c.req.param('cid'), c.req.param('pid'), attributes);
    return c.body(null, 200);
  });

  api.get('/conversations/:cid', (c) => {
    const cid = c.req.param('cid');
    const conversation = state.conversations.get(cid);
    if (!conversation) return c.json(notFoundConversation(cid), 404);
    return c.json(conversationBody(conversation));
  });

  return api;
}
