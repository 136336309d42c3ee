import { rejectionOf } from '@ivr/testing';
import platformClient from 'purecloud-platform-client-v2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSim, type RunningSim } from './index';

/** The real SDK, on a private ApiClient pointed at the simulator. */
function sdkClient(port: number) {
  const client = new platformClient.ApiClientClass();
  client.config.live_reload_config = false;
  client.setGateway({ host: '127.0.0.1', protocol: 'http', port });
  client.setReturnExtendedResponses(true);
  return client;
}

interface Extended {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** The SDK typings describe plain bodies; with extended responses every call resolves to {status, headers, body}. */
const ext = (p: Promise<unknown>) => p as Promise<Extended>;

const query = (...queueIds: string[]) => ({
  filter: { type: 'or' as const, predicates: queueIds.map((value) => ({ type: 'dimension' as const, dimension: 'queueId', operator: 'matches' as const, value })) },
  metrics: ['oOnQueueUsers', 'oWaiting', 'oInteracting', 'oAlerting', 'oActiveUsers'],
});

const genesysErrorShape = (status: number, code: string) => ({
  message: expect.any(String),
  code,
  status,
  contextId: expect.stringMatching(/^[0-9a-f-]{36}$/),
  details: [],
  errors: [],
});

let sim: RunningSim;
let client: ReturnType<typeof sdkClient>;
let analytics: platformClient.AnalyticsApi;
let conversations: platformClient.ConversationsApi;

const control = (method: string, path: string, body?: unknown) =>
  fetch(`${sim.url}/__sim${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });

beforeAll(async () => {
  sim = await startSim({ port: 0 });
});
afterAll(() => sim.close());

beforeEach(async () => {
  await control('POST', '/reset');
  client = sdkClient(sim.port);
  analytics = new platformClient.AnalyticsApi(client);
  conversations = new platformClient.ConversationsApi(client);
  await client.loginClientCredentialsGrant('sim-client', 'sim-secret');
});

describe('login (POST /oauth/token, where setGateway sends the SDK)', () => {
  it('answers a Genesys token for good credentials', async () => {
    const res = await fetch(`${sim.url}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('sim-client:sim-secret').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ access_token: expect.any(String), token_type: 'bearer', expires_in: 86399 });
  });

  it('rejects bad credentials with 401 invalid_client, as the SDK sees it', async () => {
    const err = (await rejectionOf<Extended>(sdkClient(sim.port).loginClientCredentialsGrant('sim-client', 'wrong'))) as unknown as { response: { status: number; data: unknown } };
    expect(err.response.status).toBe(401);
    expect(err.response.data).toMatchObject({ error: 'invalid_client', description: expect.any(String) });
  });

  it('honours a configured token lifetime', async () => {
    const custom = await startSim({ tokenTtlS: 120 });
    try {
      const auth = await sdkClient(custom.port).loginClientCredentialsGrant('sim-client', 'sim-secret');
      expect((auth.tokenExpiryTime ?? 0) - Date.now()).toBeGreaterThan(110_000);
      expect((auth.tokenExpiryTime ?? 0) - Date.now()).toBeLessThanOrEqual(120_000);
    } finally {
      await custom.close();
    }
  });
});

describe('bearer on /api/v2/*', () => {
  it('401 bad.credentials without a bearer token', async () => {
    const res = await fetch(`${sim.url}/api/v2/conversations/c1`);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual(genesysErrorShape(401, 'bad.credentials'));
  });

  it('401 after /__sim/tokens/expire, then a new login works', async () => {
    await control('POST', '/tokens/expire');
    const err = await rejectionOf<Extended>(analytics.postAnalyticsQueuesObservationsQuery(query('q1')));
    expect(err.status).toBe(401);
    expect(err.body).toEqual(genesysErrorShape(401, 'bad.credentials'));
    await client.loginClientCredentialsGrant('sim-client', 'sim-secret');
    expect((await ext(analytics.postAnalyticsQueuesObservationsQuery(query('q1')))).status).toBe(200);
  });
});

describe('POST /api/v2/analytics/queues/observations/query', () => {
  const media = (queueId: string, figures: Partial<Record<string, [number, number, number]>> = {}) =>
    ['voice', 'callback', 'chat', 'email', 'message'].map((mediaType) => {
      const [waiting, interacting, alerting] = figures[mediaType] ?? [0, 0, 0];
      return {
        group: { mediaType, queueId },
        data: [
          { metric: 'oWaiting', stats: { count: waiting } },
          { metric: 'oInteracting', stats: { count: interacting } },
          { metric: 'oAlerting', stats: { count: alerting } },
        ],
      };
    });

  it('per queue: one {queueId} group for user metrics, one {mediaType, queueId} group per media type, explicit zeros', async () => {
    await control('PUT', '/queues/q1', { idle: 3, interacting: 4, waiting: 2 });
    await control('PUT', '/queues/q2', { idle: 0, waiting: 0, media: { chat: { waiting: 40, interacting: 1 } } });
    const res = await ext(analytics.postAnalyticsQueuesObservationsQuery(query('q1', 'q2', 'never-set')));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      results: [
        {
          group: { queueId: 'q1' },
          data: [
            { metric: 'oOnQueueUsers', qualifier: 'IDLE', stats: { count: 3 } },
            { metric: 'oOnQueueUsers', qualifier: 'INTERACTING', stats: { count: 4 } },
            { metric: 'oActiveUsers', stats: { count: 7 } },
          ],
        },
        ...media('q1', { voice: [2, 4, 0] }),
        {
          group: { queueId: 'q2' },
          data: [
            { metric: 'oOnQueueUsers', qualifier: 'INTERACTING', stats: { count: 1 } },
            { metric: 'oActiveUsers', stats: { count: 1 } },
          ],
        },
        ...media('q2', { chat: [40, 1, 0] }),
        { group: { queueId: 'never-set' }, data: [{ metric: 'oActiveUsers', stats: { count: 0 } }] },
        ...media('never-set'),
      ],
    });
  });

  it('no conversation metric asked: no media type groups', async () => {
    await control('PUT', '/queues/q1', { idle: 2 });
    const res = await ext(analytics.postAnalyticsQueuesObservationsQuery({ ...query('q1'), metrics: ['oOnQueueUsers'] }));
    expect(res.body).toEqual({ results: [{ group: { queueId: 'q1' }, data: [{ metric: 'oOnQueueUsers', qualifier: 'IDLE', stats: { count: 2 } }] }] });
  });

  it('400 bad.request for a malformed query; PUT /__sim/queues refuses an unknown media type', async () => {
    const err = await rejectionOf<Extended>(analytics.postAnalyticsQueuesObservationsQuery({ metrics: [] } as never));
    expect(err.status).toBe(400);
    expect(err.body).toEqual(genesysErrorShape(400, 'bad.request'));
    const bad = await control('PUT', '/queues/q1', { idle: 1, media: { fax: { waiting: 1 } } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual(genesysErrorShape(400, 'bad.request'));
  });
});

describe('conversations: only created calls exist (strict, as Genesys)', () => {
  const call = (cid: string, participants: Array<{ id: string; purpose: string }> = [{ id: 'p1', purpose: 'customer' }, { id: 'ivr1', purpose: 'ivr' }]) =>
    control('PUT', `/conversations/${cid}`, { participants });

  it('PUT /__sim/conversations creates the call; GET /api/v2/conversations/{cid} answers the SDK Conversation shape, /__sim the same body', async () => {
    expect((await call('c1')).status).toBe(201);
    const res = await ext(conversations.getConversation('c1'));
    expect(res.status).toBe(200);
    const participant = (id: string, purpose: string) => ({
      id,
      purpose,
      startTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      attributes: {},
      calls: [{ id: `${id}-call`, state: 'connected' }],
    });
    expect(res.body).toEqual({
      id: 'c1',
      startTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      participants: [participant('p1', 'customer'), participant('ivr1', 'ivr')],
      selfUri: '/api/v2/conversations/c1',
    });
    expect(await (await control('GET', '/conversations/c1')).json()).toEqual(res.body);
  });

  it('PATCH merges string attributes into an existing participant', async () => {
    await call('c1');
    const first = await ext(conversations.patchConversationParticipantAttributes('c1', 'p1', { attributes: { finalRoutingDecision: 'route_to_queue' } }));
    expect(first.status).toBe(200);
    await conversations.patchConversationParticipantAttributes('c1', 'p1', { attributes: { queueOccupancyCheck: 'passed' } });
    const body = (await ext(conversations.getConversation('c1'))).body as { participants: Array<{ id: string; attributes: unknown }> };
    expect(body.participants.map((p) => [p.id, p.attributes])).toEqual([
      ['p1', { finalRoutingDecision: 'route_to_queue', queueOccupancyCheck: 'passed' }],
      ['ivr1', {}],
    ]);
  });

  it('the calls-specific variant answers 202 with the attributes', async () => {
    await call('c2', [{ id: 'p2', purpose: 'customer' }]);
    const res = await ext(conversations.patchConversationsCallParticipantAttributes('c2', 'p2', { attributes: { a: 'b' } }));
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ attributes: { a: 'b' } });
  });

  it('400 for non-string attribute values', async () => {
    await call('c1');
    const err = await rejectionOf<Extended>(conversations.patchConversationParticipantAttributes('c1', 'p1', { attributes: { n: 5 } } as never));
    expect(err.status).toBe(400);
    expect(err.body).toEqual(genesysErrorShape(400, 'bad.request'));
  });

  it('404 not.found for an unknown conversation (GET and PATCH) and an unknown participant; nothing is created', async () => {
    await call('c1');
    for (const p of [
      conversations.getConversation('nope'),
      conversations.patchConversationParticipantAttributes('nope', 'p1', { attributes: { a: 'b' } }),
      conversations.patchConversationParticipantAttributes('c1', 'customer', { attributes: { a: 'b' } }),
      conversations.patchConversationsCallParticipantAttributes('c1', 'someone', { attributes: { a: 'b' } }),
    ]) {
      const err = await rejectionOf<Extended>(p);
      expect(err.status).toBe(404);
      expect(err.body).toEqual(genesysErrorShape(404, 'not.found'));
    }
    expect((await control('GET', '/conversations/nope')).status).toBe(404);
    const body = (await ext(conversations.getConversation('c1'))).body as { participants: unknown[] };
    expect(body.participants).toHaveLength(2);
  });

  it('DELETE ends the call: GET shows it disconnected, a write answers 400 bad.request in Genesys shape', async () => {
    await call('c3');
    const ended = await control('DELETE', '/conversations/c3');
    expect(ended.status).toBe(200);
    const body = (await ext(conversations.getConversation('c3'))).body as { endTime?: string; participants: Array<{ endTime?: string; calls: Array<{ state: string }> }> };
    expect(body.endTime).toEqual(expect.any(String));
    expect(body.participants.every((p) => p.endTime && p.calls[0]?.state === 'disconnected')).toBe(true);
    const err = await rejectionOf<Extended>(conversations.patchConversationParticipantAttributes('c3', 'p1', { attributes: { a: 'b' } }));
    expect(err.status).toBe(400);
    expect(err.body).toEqual(genesysErrorShape(400, 'bad.request'));
    expect((err.body as { message: string }).message).toMatch(/disconnected/);
    expect((await control('DELETE', '/conversations/never')).status).toBe(404);
  });

  it('PUT refuses a call without participants, an unknown purpose or a repeated id', async () => {
    for (const participants of [[], [{ id: 'a', purpose: 'caller' }], [{ id: 'a', purpose: 'customer' }, { id: 'a', purpose: 'ivr' }], [{ purpose: 'customer' }]]) {
      const res = await control('PUT', '/conversations/bad', { participants });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual(genesysErrorShape(400, 'bad.request'));
    }
  });
});

describe('faults', () => {
  it('429 with Retry-After and too.many.requests.retry.after', async () => {
    await control('POST', '/faults', { match: 'observations', status: 429, retryAfterS: 3 });
    const err = await rejectionOf<Extended>(analytics.postAnalyticsQueuesObservationsQuery(query('q1')));
    expect(err.status).toBe(429);
    expect(err.headers['retry-after']).toBe('3');
    expect(err.body).toEqual(genesysErrorShape(429, 'too.many.requests.retry.after'));
  });

  it('rate 0.3 over 100 calls injects exactly 30, the same ones every run', async () => {
    await control('PUT', '/conversations/c', { participants: [{ id: 'p', purpose: 'customer' }] });
    await control('POST', '/faults', { match: 'attributes', status: 409, rate: 0.3 });
    const failedAt: number[] = [];
    for (let i = 0; i < 100; i++) {
      const ok = await conversations.patchConversationParticipantAttributes('c', 'p', { attributes: { i: String(i) } }).then(() => true, () => false);
      if (!ok) failedAt.push(i);
    }
    expect(failedAt).toHaveLength(30);
    expect(failedAt.slice(0, 4)).toEqual([3, 6, 9, 13]);
    const stats = (await (await control('GET', '/stats')).json()) as { byEndpoint: Record<string, Record<string, number>>; countByEndpoint: Record<string, number> };
    expect(stats.byEndpoint.attributes).toEqual({ 200: 70, 409: 30 });
    expect(stats.countByEndpoint).toMatchObject({ token: 1, attributes: 100 });
  });

  it('count stops the fault; path substrings match; DELETE clears', async () => {
    for (const cid of ['c8', 'c9']) await control('PUT', `/conversations/${cid}`, { participants: [{ id: 'p', purpose: 'customer' }] });
    await control('POST', '/faults', { match: '/conversations/c9', status: 503, count: 2 });
    await conversations.patchConversationParticipantAttributes('c8', 'p', { attributes: { a: 'b' } });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push(await ext(conversations.patchConversationParticipantAttributes('c9', 'p', { attributes: { a: 'b' } })).then((r) => r.status, (e: Extended) => e.status));
    expect(statuses).toEqual([503, 503, 200]);
    await control('POST', '/faults', { match: 'conversation', status: 500 });
    expect((await control('DELETE', '/faults')).status).toBe(200);
    expect((await ext(conversations.getConversation('c9'))).status).toBe(200);
  });

  it('latency faults delay the answer', async () => {
    await control('POST', '/faults', { match: 'observations', latencyMs: 150 });
    const started = Date.now();
    expect((await ext(analytics.postAnalyticsQueuesObservationsQuery(query('q1')))).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });
});

describe('control API', () => {
  it('records every API call with endpoint and status, and supports ?since', async () => {
    await analytics.postAnalyticsQueuesObservationsQuery(query('q1'));
    await rejectionOf<Extended>(conversations.getConversation('missing'));
    const all = (await (await control('GET', '/calls')).json()) as { total: number; calls: Array<Record<string, unknown>> };
    expect(all.total).toBe(3);
    expect(all.calls.map((c) => [c.method, c.endpoint, c.status])).toEqual([
      ['POST', 'token', 200],
      ['POST', 'observations', 200],
      ['GET', 'conversation', 404],
    ]);
    expect(all.calls[1]).toMatchObject({ path: '/api/v2/analytics/queues/observations/query', time: expect.any(Number) });
    const since = (await (await control('GET', '/calls?since=2')).json()) as { calls: unknown[] };
    expect(since.calls).toHaveLength(1);
  });

  it('reset forgets queues, conversations, calls, faults and tokens', async () => {
    await control('PUT', '/queues/q1', { idle: 1 });
    await control('PUT', '/conversations/c1', { participants: [{ id: 'p1', purpose: 'customer' }] });
    await conversations.patchConversationParticipantAttributes('c1', 'p1', { attributes: { a: 'b' } });
    await control('POST', '/faults', { match: 'token', status: 500 });
    await control('POST', '/reset');
    expect(await (await control('GET', '/queues')).json()).toEqual({});
    expect((await control('GET', '/conversations/c1')).status).toBe(404);
    expect(((await (await control('GET', '/stats')).json()) as { total: number }).total).toBe(0);
    expect((await rejectionOf<Extended>(analytics.postAnalyticsQueuesObservationsQuery(query('q1')))).status).toBe(401);
    await expect(client.loginClientCredentialsGrant('sim-client', 'sim-secret')).resolves.toBeDefined();
  });

  it('rejects invalid control input with 400', async () => {
    expect((await control('PUT', '/queues/q1', { idle: -1 })).status).toBe(400);
    expect((await control('POST', '/faults', { match: 'x', rate: 2, status: 500 })).status).toBe(400);
  });
});
