import { Hono, type Context } from 'hono';
import { genesysError } from '../genesys-error';
import { observe, parseObservationQuery } from '../observations';
import type { Models } from 'purecloud-platform-client-v2';
import type { AttributesRefusal, SimState } from '../state';
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

/**
 * The conversation as `GET /api/v2/conversations/{cid}` answers it: the SDK's Conversation model (id, startTime,
 * endTime, state, participants[] with id, purpose, startTime, endTime, attributes, calls[].state, selfUri), limited
 * to the fields a call in the simulator has. Typed against the SDK's index.d.ts so the shape cannot drift.
 */
/** `GET /api/v2/conversations/{cid}`'s body: the SDK's Conversation model. */
export type ConversationBody = Models.Conversation;

export function conversationBody(conversation: SimConversation): ConversationBody {
  const ended = conversation.endTime !== undefined;
  return {
    id: conversation.id,
    startTime: conversation.startTime,
    ...(ended ? { endTime: conversation.endTime } : {}),
    participants: conversation.participants.map((p): Models.Participant => ({
      id: p.id,
      startTime: p.startTime,
      ...(p.endTime ? { endTime: p.endTime } : {}),
      purpose: p.purpose,
      attributes: { ...p.attributes },
      calls: [{ id: `${p.id}-call`, state: p.endTime ? 'disconnected' : 'connected' }],
    })),
    selfUri: `/api/v2/conversations/${conversation.id}`,
  };
}

export function notFoundConversation(conversationId: string) {
  return genesysError(404, `Conversation ${conversationId} not found`, 'not.found');
}

/**
 * The write refused, as Genesys answers it. Unknown conversation or participant: 404 not.found. An ended
 * (disconnected) call: no public source says what Genesys answers, so the simulator answers 400 bad.request with a
 * Genesys-shaped body (README "The Genesys simulator"); a 400 is not retried, as no retry could succeed.
 */
function refusal(conversationId: string, participantId: string, why: AttributesRefusal) {
  if (why === 'no_conversation') return { status: 404 as const, body: notFoundConversation(conversationId) };
  if (why === 'no_participant') {
    return { status: 404 as const, body: genesysError(404, `Participant ${participantId} not found in conversation ${conversationId}`, 'not.found') };
  }
  return {
    status: 400 as const,
    body: genesysError(400, `Conversation ${conversationId} is disconnected: participant ${participantId} can no longer be updated`, 'bad.request'),
  };
}

const EWT_MEDIA_TYPES = ['call', 'callback', 'chat', 'email', 'message'];

/** The Genesys Cloud API surface the product uses, mounted at /api/v2. */
export function apiRoutes(state: SimState): Hono<SimEnv> {
  const api = new Hono<SimEnv>();

  api.post('/analytics/queues/observations/query', async (c) => {
    const query = parseObservationQuery(await jsonBody(c));
    if (typeof query === 'string') return c.json(genesysError(400, query, 'bad.request'), 400);
    const results = query.queueIds.flatMap((id) => observe(id, query.metrics, state.queue(id)));
    return c.json({ results });
  });

  // Both attribute endpoints (the calls-specific one answers 202 with the attributes, the generic one 200 empty):
  // one handler, so their validation and refusals cannot drift apart.
  const patchAttributes = (answer: (c: Context<SimEnv>, attributes: Record<string, string>) => Response) => async (c: Context<SimEnv>) => {
    const attributes = parseAttributes(await jsonBody(c));
    if (typeof attributes === 'string') return c.json(genesysError(400, attributes, 'bad.request'), 400);
    const participant = state.mergeAttributes(c.req.param('cid')!, c.req.param('pid')!, attributes);
    if (typeof participant === 'string') {
      const r = refusal(c.req.param('cid')!, c.req.param('pid')!, participant);
      return c.json(r.body, r.status);
    }
    return answer(c, participant.attributes);
  };
  api.patch('/conversations/calls/:cid/participants/:pid/attributes', patchAttributes((c, attributes) => c.json({ attributes: { ...attributes } }, 202)));
  api.patch('/conversations/:cid/participants/:pid/attributes', patchAttributes((c) => c.body(null, 200)));

  api.get('/conversations/:cid', (c) => {
    const cid = c.req.param('cid');
    const conversation = state.conversations.get(cid);
    if (!conversation) return c.json(notFoundConversation(cid), 404);
    return c.json(conversationBody(conversation));
  });

  // Estimated wait: the SDK's EstimatedWaitTimePredictions, one `BEST` result whose intent is the path's media type
  // (PredictionResults.IntentEnum: CALL, CALLBACK, CHAT, EMAIL, MESSAGE); any other media type is refused.
  api.get('/routing/queues/:queueId/mediatypes/:mediaType/estimatedwaittime', (c) => {
    const mediaType = c.req.param('mediaType');
    if (!EWT_MEDIA_TYPES.includes(mediaType)) return c.json(genesysError(400, `mediaType must be one of ${EWT_MEDIA_TYPES.join(', ')}`, 'bad.request'), 400);
    const body: Models.EstimatedWaitTimePredictions = {
      results: [{ intent: mediaType.toUpperCase(), formula: 'BEST', estimatedWaitTimeSeconds: state.queue(c.req.param('queueId')).estimatedWaitS }],
    };
    return c.json(body);
  });

  // Notifications (see notifications.ts for the documented behaviour). connectUri: Genesys answers
  // wss://streaming.{region}/channels/{id}; the simulator's socket is on its own host and port.
  api.post('/notifications/channels', (c) => {
    const channel = state.notifications.create();
    const url = new URL(c.req.url);
    const body: Models.Channel = {
      id: channel.id,
      connectUri: `${url.protocol === 'https:' ? 'wss' : 'ws'}://${url.host}/channels/${channel.id}`,
      expires: new Date(channel.expiresAt).toISOString(),
    };
    return c.json(body);
  });
  api.put('/notifications/channels/:id/subscriptions', async (c) => {
    const result = state.notifications.subscribe(c.req.param('id'), await jsonBody(c));
    if (!result.ok) return c.json(genesysError(result.status, result.message, result.status === 404 ? 'not.found' : 'bad.request'), result.status);
    const body: Models.ChannelTopicEntityListing = { entities: result.topics.map((id) => ({ id })) };
    return c.json(body);
  });
  api.get('/notifications/channels/:id/subscriptions', (c) => {
    const channel = state.notifications.channel(c.req.param('id'));
    if (!channel) return c.json(genesysError(404, `Channel ${c.req.param('id')} not found (it may have expired)`, 'not.found'), 404);
    const body: Models.ChannelTopicEntityListing = { entities: channel.topics.map((id) => ({ id })) };
    return c.json(body);
  });

  return api;
}
