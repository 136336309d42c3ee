import { rejectionOf } from '@ivr/testing';
import { createConversation, startTestSim, type TestSim } from '@ivr/genesys-sim/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGenesysClient, type GenesysClientOptions } from './client';
import { GenesysApiError, GenesysAuthError } from './errors';
import type { GenesysClient } from './types';

let sim: TestSim;

const clientFor = (s: TestSim, overrides: Partial<GenesysClientOptions> = {}): GenesysClient =>
  createGenesysClient({ environment: 'mypurecloud.com', apiBase: s.url, clientId: s.clientId, clientSecret: s.clientSecret, timeoutMs: 2000, ...overrides });

beforeAll(async () => {
  sim = await startTestSim();
});
afterAll(() => sim.close());
beforeEach(() => sim.control.reset());

describe('login', () => {
  it('logs in once against the simulator', async () => {
    const client = clientFor(sim);
    await client.login();
    expect(client.stats().logins).toBe(1);
    expect(await sim.control.calls('token')).toMatchObject([{ method: 'POST', path: '/oauth/token', status: 200 }]);
  });

  it('bad secret → GenesysAuthError naming the client, the login URL and what to check', async () => {
    const err = await rejectionOf(clientFor(sim, { clientSecret: 'wrong' }).login());
    expect(err).toBeInstanceOf(GenesysAuthError);
    const message = (err as Error).message;
    expect(message).toContain(`Genesys login failed for client id sim-client at ${sim.url}/oauth/token: 401 invalid_client`);
    expect(message).toContain('check GENESYS_CLIENT_ID/SECRET and GENESYS_ENVIRONMENT');
  });

  it('an unreachable login is a retryable GenesysApiError, not an auth error', async () => {
    const gone = await startTestSim();
    await gone.close();
    const err = await rejectionOf(clientFor(gone).login());
    expect(err).toBeInstanceOf(GenesysApiError);
    expect(err).toMatchObject({ kind: 'retryable', endpoint: 'token' });
    expect((err as Error).message).toContain(`${gone.url}/oauth/token`);
  });

  it('clients are independent (private SDK ApiClient each)', async () => {
    const other = await startTestSim({ clientId: 'other-client', clientSecret: 'other-secret' });
    try {
      const a = clientFor(sim);
      const b = clientFor(other);
      await Promise.all([a.login(), b.login()]);
      await sim.control.setQueue('q', { idle: 1 });
      await other.control.setQueue('q', { idle: 9 });
      const [ra, rb] = await Promise.all([a.queryObservations(['q']), b.queryObservations(['q'])]);
      expect(ra.results?.[0]?.data?.[0]?.stats?.count).toBe(1);
      expect(rb.results?.[0]?.data?.[0]?.stats?.count).toBe(9);
    } finally {
      await other.close();
    }
  });
});

describe('API calls', () => {
  it('queryObservations for 3 queues is one HTTP call with a queue group (and media type groups) per queue', async () => {
    const client = clientFor(sim);
    await client.login();
    await sim.control.setQueue('q1', { idle: 3, interacting: 4, waiting: 2 });
    await sim.control.setQueue('q2', { idle: 6 });
    const res = await client.queryObservations(['q1', 'q2', 'q3']);
    const queueGroups = res.results?.filter((r) => r.group?.mediaType === undefined) ?? [];
    expect(queueGroups.map((r) => r.group?.queueId)).toEqual(['q1', 'q2', 'q3']);
    expect(queueGroups[0]?.data).toContainEqual({ metric: 'oOnQueueUsers', qualifier: 'IDLE', stats: { count: 3 } });
    expect(queueGroups[2]?.data?.some((d) => d.metric === 'oOnQueueUsers')).toBe(false);
    expect(res.results?.find((r) => r.group?.queueId === 'q1' && r.group.mediaType === 'voice')?.data).toContainEqual({ metric: 'oWaiting', stats: { count: 2 } });
    expect(await sim.control.calls('observations')).toHaveLength(1);
    expect(client.stats()).toEqual({ logins: 1, calls: { observations: 1 }, statuses: { 200: 1 } });
  });

  it('patchParticipantAttributes then getConversation shows the attributes', async () => {
    const client = clientFor(sim);
    await client.login();
    await createConversation(sim, 'conv-1', { customerId: 'part-1' });
    const attributes = { finalRoutingDecision: 'route_to_queue', queueOccupancyCheck: 'passed' };
    expect(await client.patchParticipantAttributes('conv-1', 'part-1', attributes)).toEqual({ status: 200 });
    const conversation = await client.getConversation('conv-1');
    expect(conversation.participants.map((p) => [p.id, p.purpose, p.attributes])).toEqual([
      ['part-1', 'customer', attributes],
      ['conv-1-ivr', 'ivr', {}],
    ]);
    expect(await sim.control.conversation('conv-1')).toEqual(conversation);
  });

  it('a made-up participant id is a 404 (fatal), as in Genesys', async () => {
    const client = clientFor(sim);
    await client.login();
    await createConversation(sim, 'conv-2');
    expect(await rejectionOf(client.patchParticipantAttributes('conv-2', 'customer', { a: 'b' }))).toMatchObject({ kind: 'fatal', status: 404, endpoint: 'attributes' });
  });

  it('never logs in per call', async () => {
    const client = clientFor(sim);
    await client.login();
    for (let i = 0; i < 10; i++) await client.queryObservations(['q1']);
    expect(client.stats().logins).toBe(1);
    expect(await sim.control.calls('token')).toHaveLength(1);
  });
});

describe('token lifecycle', () => {
  it('after token expiry: exactly one re-login, then the call succeeds', async () => {
    const client = clientFor(sim);
    await client.login();
    await sim.control.expireTokens();
    await expect(client.queryObservations(['q1'])).resolves.toMatchObject({ results: expect.arrayContaining([{ group: { queueId: 'q1' }, data: expect.any(Array) }]) });
    expect(client.stats().logins).toBe(2);
    expect((await sim.control.calls()).map((c) => `${c.endpoint} ${c.status}`)).toEqual(['token 200', 'observations 401', 'token 200', 'observations 200']);
  });

  it('20 concurrent calls after expiry share exactly one re-login (single flight)', async () => {
    const client = clientFor(sim);
    await client.login();
    await sim.control.expireTokens();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => client.queryObservations([`q${i}`])));
    expect(results).toHaveLength(20);
    expect(client.stats().logins).toBe(2);
    expect(await sim.control.calls('token')).toHaveLength(2);
    expect((await sim.control.calls('observations')).filter((c) => c.status === 200)).toHaveLength(20);
  });

  it('concurrent first calls without login() share one login', async () => {
    const client = clientFor(sim);
    await Promise.all(Array.from({ length: 10 }, () => client.queryObservations(['q1'])));
    expect(await sim.control.calls('token')).toHaveLength(1);
  });

  it('logs in again proactively before the token expires (no 401 seen)', async () => {
    await sim.control.config({ tokenTtlS: 2 });
    let clock = Date.now();
    const client = clientFor(sim, { refreshMarginMs: 1000, now: () => clock });
    await client.login();
    await client.queryObservations(['q1']);
    clock += 900; // not yet: the token (2 s) is refreshed 1 s before it expires
    await client.queryObservations(['q1']);
    clock += 600; // now it is (the SDK's expiry is real time at the login's answer: up to 500 ms of slack)
    await client.queryObservations(['q1']);
    expect((await sim.control.calls()).map((c) => `${c.endpoint} ${c.status}`)).toEqual(['token 200', 'observations 200', 'observations 200', 'token 200', 'observations 200']);
    await sim.control.config({ tokenTtlS: 86399 });
  });

  it('a second 401 right after re-login fails with kind reauth (no loop)', async () => {
    const client = clientFor(sim);
    await client.login();
    await sim.control.fault({ match: 'observations', status: 401 });
    const err = await rejectionOf(client.queryObservations(['q1']));
    expect(err).toMatchObject({ kind: 'reauth', status: 401, endpoint: 'observations' });
    expect(client.stats().logins).toBe(2);
  });
});

describe('errors', () => {
  it('429 → GenesysApiError rate_limited with retryAfterMs from Retry-After', async () => {
    const client = clientFor(sim);
    await client.login();
    await sim.control.fault({ match: 'attributes', status: 429, retryAfterS: 5 });
    const err = await rejectionOf(client.patchParticipantAttributes('c', 'p', { a: 'b' }));
    expect(err).toBeInstanceOf(GenesysApiError);
    expect(err).toMatchObject({ kind: 'rate_limited', status: 429, retryAfterMs: 5000, code: 'too.many.requests.retry.after', endpoint: 'attributes' });
    expect(client.stats().statuses).toEqual({ 429: 1 });
  });

  it('409 → retryable', async () => {
    const client = clientFor(sim);
    await client.login();
    await sim.control.fault({ match: 'attributes', status: 409 });
    expect(await rejectionOf(client.patchParticipantAttributes('c', 'p', { a: 'b' }))).toMatchObject({ kind: 'retryable', status: 409 });
  });

  it('404 → fatal, message carries the Genesys message and contextId', async () => {
    const client = clientFor(sim);
    await client.login();
    const err = await rejectionOf(client.getConversation('missing'));
    expect(err).toBeInstanceOf(GenesysApiError);
    const e = err as GenesysApiError;
    expect(e.kind).toBe('fatal');
    expect(e.contextId).toMatch(/^[0-9a-f-]{36}$/);
    expect(e.message).toBe(`Genesys 404 not.found: Conversation missing not found (contextId ${e.contextId}) [conversation]`);
  });
});
