import { rejectionOf } from '@ivr/testing';
import { startTestSim, type TestSim } from '@ivr/genesys-sim/testing';
import platformClient from 'purecloud-platform-client-v2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { classifyGenesysError, GenesysApiError, GenesysAuthError, retryAfterMs } from './errors';
import { createSdkClient } from './sdk-client';

let sim: TestSim;
let analytics: platformClient.AnalyticsApi;

const query = { filter: { type: 'or' as const, predicates: [{ type: 'dimension' as const, dimension: 'queueId', operator: 'matches' as const, value: 'q1' }] }, metrics: ['oOnQueueUsers'] };

beforeAll(async () => {
  sim = await startTestSim();
});
afterAll(() => sim.close());

beforeEach(async () => {
  await sim.control.reset();
  const sdk = createSdkClient({ environment: 'mypurecloud.com', apiBase: sim.url, timeoutMs: 300 });
  await sdk.loginClientCredentialsGrant(sim.clientId, sim.clientSecret);
  analytics = new platformClient.AnalyticsApi(sdk);
});

describe('classifyGenesysError on real SDK rejections (extended responses) from the simulator', () => {
  it.each([
    [400, 'fatal'],
    [403, 'fatal'],
    [404, 'fatal'],
    [409, 'retryable'],
    [500, 'retryable'],
    [502, 'retryable'],
    [503, 'retryable'],
  ] as const)('%i → %s', async (status, kind) => {
    await sim.control.fault({ match: 'observations', status });
    const c = classifyGenesysError(await rejectionOf(analytics.postAnalyticsQueuesObservationsQuery(query)));
    expect(c).toMatchObject({ kind, status, code: expect.any(String), contextId: expect.any(String) });
    expect(c.message).toContain(`Genesys ${status} ${c.code}`);
    expect(c.message).toContain(`(contextId ${c.contextId})`);
    expect(c.retryAfterMs).toBeUndefined();
  });

  it('429 → rate_limited with Retry-After seconds as ms', async () => {
    await sim.control.fault({ match: 'observations', status: 429, retryAfterS: 7 });
    const c = classifyGenesysError(await rejectionOf(analytics.postAnalyticsQueuesObservationsQuery(query)));
    expect(c).toMatchObject({ kind: 'rate_limited', status: 429, code: 'too.many.requests.retry.after', retryAfterMs: 7000 });
  });

  it('401 (expired token) → reauth', async () => {
    await sim.control.expireTokens();
    const c = classifyGenesysError(await rejectionOf(analytics.postAnalyticsQueuesObservationsQuery(query)));
    expect(c).toMatchObject({ kind: 'reauth', status: 401, code: 'bad.credentials' });
  });

  it('400 from a malformed query → fatal with the Genesys message', async () => {
    const c = classifyGenesysError(await rejectionOf(analytics.postAnalyticsQueuesObservationsQuery({ metrics: [] } as never)));
    expect(c).toMatchObject({ kind: 'fatal', status: 400, code: 'bad.request' });
    expect(c.message).toContain('filter is required');
  });

  it('a timeout (latency above timeoutMs) → retryable', async () => {
    await sim.control.fault({ match: 'observations', latencyMs: 600 });
    const c = classifyGenesysError(await rejectionOf(analytics.postAnalyticsQueuesObservationsQuery(query)));
    expect(c.kind).toBe('retryable');
    expect(c.status).toBeUndefined();
    expect(c.message).toMatch(/timed out/);
  });

  it('connection refused (nothing listening) → retryable', async () => {
    const other = await startTestSim();
    const sdk = createSdkClient({ environment: 'x', apiBase: other.url, timeoutMs: 1000 });
    await sdk.loginClientCredentialsGrant(other.clientId, other.clientSecret);
    await other.close();
    const c = classifyGenesysError(await rejectionOf(new platformClient.AnalyticsApi(sdk).postAnalyticsQueuesObservationsQuery(query)));
    expect(c).toMatchObject({ kind: 'retryable', code: expect.stringMatching(/ECONNREFUSED|ECONNRESET/) });
  });

  it('a refused login (raw AxiosError with response) → fatal 401 invalid_client', async () => {
    const sdk = createSdkClient({ environment: 'x', apiBase: sim.url, timeoutMs: 1000 });
    const c = classifyGenesysError(await rejectionOf(sdk.loginClientCredentialsGrant('sim-client', 'bad')));
    expect(c).toMatchObject({ kind: 'reauth', status: 401, code: 'invalid_client' });
  });
});

describe('classifyGenesysError on plain values', () => {
  it.each([
    ['ECONNRESET', { code: 'ECONNRESET', message: 'socket hang up' }, 'retryable'],
    ['ECONNREFUSED', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'retryable'],
    ['axios timeout', { isAxiosError: true, code: 'ECONNABORTED', message: 'timeout of 50ms exceeded' }, 'retryable'],
    ['axios without response', { isAxiosError: true, message: 'Network Error' }, 'retryable'],
    ['extended with no HTTP answer', { status: undefined, error: { isAxiosError: true, code: 'ECONNRESET', message: 'x' } }, 'retryable'],
    ['body-only rejection (non-extended SDK)', { message: 'Not found', code: 'not.found', status: 404, contextId: 'abc' }, 'fatal'],
    ['axios response 503', { isAxiosError: true, response: { status: 503, data: { message: 'down', code: 'service.unavailable' }, headers: {} } }, 'retryable'],
    ['axios response 418', { isAxiosError: true, response: { status: 418, data: 'teapot', headers: {} } }, 'fatal'],
    ['unknown Error', new Error('boom'), 'fatal'],
    ['a string', 'boom', 'fatal'],
  ] as const)('%s → %s', (_name, err, kind) => {
    expect(classifyGenesysError(err).kind).toBe(kind);
  });

  it('429 without Retry-After defaults to 1000 ms', () => {
    const c = classifyGenesysError({ status: 429, headers: {}, body: { message: 'slow down', code: 'too.many.requests', status: 429 } });
    expect(c).toMatchObject({ kind: 'rate_limited', retryAfterMs: 1000 });
  });

  it('reads Retry-After from a headers object with get() (AxiosHeaders)', () => {
    const headers = { get: (n: string) => (n === 'retry-after' ? '2' : undefined) };
    expect(classifyGenesysError({ status: 429, headers, body: {} }).retryAfterMs).toBe(2000);
  });

  it('retryAfterMs handles seconds, HTTP dates and garbage', () => {
    expect(retryAfterMs('0')).toBe(0);
    expect(retryAfterMs('1.5')).toBe(1500);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(retryAfterMs('soon')).toBe(1000);
  });

  it('passes GenesysApiError and GenesysAuthError through', () => {
    const api = new GenesysApiError({ kind: 'rate_limited', status: 429, retryAfterMs: 3000, message: 'Genesys 429' }, 'observations');
    expect(classifyGenesysError(api)).toMatchObject({ kind: 'rate_limited', status: 429, retryAfterMs: 3000 });
    expect(classifyGenesysError(new GenesysAuthError('bad secret', 401, 'invalid_client'))).toMatchObject({ kind: 'fatal', status: 401 });
  });
});
