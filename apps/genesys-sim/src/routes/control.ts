import { Hono, type Context } from 'hono';
import { validateFault } from '../faults';
import { genesysError } from '../genesys-error';
import type { SimState } from '../state';
import { MEDIA_TYPES, PARTICIPANT_PURPOSES, type MediaCounts, type MediaType, type ParticipantPurpose, type QueueInput } from '../types';
import { conversationBody, notFoundConversation } from './api';

/** Control errors keep Genesys' error shape too, so one parser reads every error the simulator gives. */
function badRequest(c: Context, message: string) {
  return c.json(genesysError(400, message, 'bad.request'), 400);
}

const count = (value: unknown) => Number.isInteger(value) && (value as number) >= 0;

function parseCounts(body: unknown): QueueInput | string {
  if (typeof body !== 'object' || body === null) {
    return 'body must be {"idle","interacting","waiting","alerting","interactingUsers","media":{"chat":{"waiting",...}}} (non-negative integers)';
  }
  const input = body as Record<string, unknown>;
  const out: QueueInput = {};
  for (const key of ['idle', 'interacting', 'waiting', 'alerting', 'interactingUsers', 'estimatedWaitS'] as const) {
    const value = input[key];
    if (value === undefined) continue;
    if (!count(value)) return `${key} must be a non-negative integer`;
    out[key] = value as number;
  }
  if (input.media !== undefined) {
    if (typeof input.media !== 'object' || input.media === null) return 'media must be an object of media type -> {"waiting","interacting","alerting"}';
    const media: Partial<Record<MediaType, Partial<MediaCounts>>> = {};
    for (const [type, figures] of Object.entries(input.media)) {
      if (!(MEDIA_TYPES as readonly string[]).includes(type)) return `media.${type}: media type must be one of ${MEDIA_TYPES.join(', ')}`;
      if (typeof figures !== 'object' || figures === null) return `media.${type} must be {"waiting","interacting","alerting"}`;
      const parsed: Partial<MediaCounts> = {};
      for (const [key, value] of Object.entries(figures)) {
        if (key !== 'waiting' && key !== 'interacting' && key !== 'alerting') return `media.${type}.${key}: only waiting, interacting, alerting`;
        if (!count(value)) return `media.${type}.${key} must be a non-negative integer`;
        parsed[key] = value as number;
      }
      media[type as MediaType] = parsed;
    }
    out.media = media;
  }
  return out;
}

/** `{"participants":[{"id","purpose"}]}` → the participants of a new call (ids unique, purposes as Genesys'). */
function parseParticipants(body: unknown): Array<{ id: string; purpose: ParticipantPurpose }> | string {
  const list = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).participants : undefined;
  if (!Array.isArray(list) || list.length === 0) return 'body must be {"participants":[{"id","purpose"}, ...]} with at least one participant';
  const out: Array<{ id: string; purpose: ParticipantPurpose }> = [];
  for (const [i, p] of list.entries()) {
    const { id, purpose } = (typeof p === 'object' && p !== null ? p : {}) as Record<string, unknown>;
    if (typeof id !== 'string' || id.length === 0) return `participants[${i}].id must be a non-empty string`;
    if (!(PARTICIPANT_PURPOSES as readonly string[]).includes(purpose as string)) {
      return `participants[${i}].purpose must be one of ${PARTICIPANT_PURPOSES.join(', ')}`;
    }
    if (out.some((o) => o.id === id)) return `participants[${i}].id ${id} is used twice`;
    out.push({ id, purpose: purpose as ParticipantPurpose });
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

  control.put('/conversations/:cid', async (c) => {
    const participants = parseParticipants(await json(c));
    if (typeof participants === 'string') return badRequest(c, participants);
    return c.json(conversationBody(state.createConversation(c.req.param('cid'), participants)), 201);
  });
  control.delete('/conversations/:cid', (c) => {
    const conversation = state.endConversation(c.req.param('cid'));
    if (!conversation) return c.json(notFoundConversation(c.req.param('cid')), 404);
    return c.json(conversationBody(conversation));
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

  // Notification faults: cut every socket; keep sockets open but send nothing; expire every channel.
  control.get('/notifications', (c) => c.json({ silent: state.notifications.silent, eventsSent: state.notifications.eventsSent, channels: state.notifications.list() }));
  control.post('/notifications/drop', (c) => c.json({ dropped: state.notifications.drop() }));
  control.put('/notifications/silence', async (c) => {
    const body = (await json(c)) as Record<string, unknown> | undefined;
    if (typeof body?.silent !== 'boolean') return badRequest(c, 'body must be {"silent": true|false}');
    state.notifications.silent = body.silent;
    return c.json({ silent: state.notifications.silent });
  });
  control.post('/notifications/expire', (c) => c.json({ expired: state.notifications.expire() }));

  control.post('/tokens/expire', (c) => c.json({ expired: state.expireTokens() }));

  control.put('/config', async (c) => {
    const body = (await json(c)) as Record<string, unknown> | undefined;
    if (typeof body?.tokenTtlS === 'number' && body.tokenTtlS > 0) state.tokenTtlS = body.tokenTtlS;
    if (typeof body?.clientId === 'string') state.clientId = body.clientId;
    if (typeof body?.clientSecret === 'string') state.clientSecret = body.clientSecret;
    if (typeof body?.heartbeatMs === 'number' && body.heartbeatMs >= 10) state.notifications.setHeartbeatMs(body.heartbeatMs);
    if (typeof body?.channelTtlS === 'number' && body.channelTtlS > 0) state.notifications.channelTtlMs = body.channelTtlS * 1000;
    return c.json({ tokenTtlS: state.tokenTtlS, clientId: state.clientId, heartbeatMs: state.notifications.heartbeatMs, channelTtlS: state.notifications.channelTtlMs / 1000 });
  });

  control.post('/reset', (c) => {
    state.reset();
    return c.json({ ok: true });
  });

  control.get('/stats', (c) => c.json({ ...state.calls.stats(), tokensIssued: state.tokensIssued, activeTokens: state.tokens.size }));

  return control;
}
