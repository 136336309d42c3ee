import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createQueues, QUEUE_NAMES, type IvrQueues } from '@ivr/queue-contract';
import { createEmbeddedStore, type DecisionStore } from '@ivr/reporting';
import { testRedis } from '@ivr/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from './admin-auth';
import { createDashboardApp, type DashboardLogger } from './app';
import { GuessThrottle, adminTokenProblem, dashboardBind } from './security';

const TOKEN = 'security-test-token-4b9e1';
const bearer = { Authorization: `Bearer ${TOKEN}` };
const HTML = { accept: 'text/html,application/xhtml+xml' };

function cookieFrom(res: Response): string {
  const set = res.headers.get('set-cookie') ?? '';
  return set.split(';')[0]!;
}

describe('admin token strength and bind address', () => {
  it('refuses short or low-variety tokens with a one-line reason', () => {
    expect(adminTokenProblem('a')).toMatch(/too short \(1 characters; at least 16\)/);
    expect(adminTokenProblem('aaaaaaaaaaaaaaaaaaaaaaaa')).toMatch(/distinct characters/);
    expect(adminTokenProblem(' padded-token-0123456789 ')).toMatch(/whitespace/);
    expect(adminTokenProblem('Zx8kP2q9Lm4Rt7Vb')).toBeNull();
  });

  it('binds 0.0.0.0 with a good token, loopback without, refuses a public address without a token', () => {
    expect(dashboardBind({ token: 'Zx8kP2q9Lm4Rt7Vb' })).toEqual({ host: '0.0.0.0' });
    expect(dashboardBind({ token: 'Zx8kP2q9Lm4Rt7Vb', host: '10.0.0.5' })).toEqual({ host: '10.0.0.5' });
    expect(dashboardBind({})).toEqual({ host: '127.0.0.1' });
    expect(dashboardBind({ host: '::1' })).toEqual({ host: '::1' });
    expect(dashboardBind({ host: '0.0.0.0' })).toMatchObject({ error: expect.stringMatching(/needs ADMIN_TOKEN/) });
    expect(dashboardBind({ token: 'a' })).toMatchObject({ error: expect.stringMatching(/too short/) });
  });
});

describe('GuessThrottle', () => {
  it('blocks an address after maxFailures until the window ends; other addresses and the tracked-address bound', () => {
    let t = 0;
    const th = new GuessThrottle(3, 1000, 2, () => t);
    for (let i = 0; i < 3; i++) th.fail('a');
    expect(th.blockedFor('a')).toBe(1000);
    expect(th.blockedFor('b')).toBe(0);
    t = 999;
    expect(th.blockedFor('a')).toBe(1);
    t = 1000;
    expect(th.blockedFor('a')).toBe(0);
    th.fail('x');
    th.fail('y');
    th.fail('z');
    expect(th.size()).toBe(2);
  });
});

describe('dashboard access (real Redis)', () => {
  const r = testRedis('dash-sec');
  let queues: IvrQueues;
  let store: DecisionStore;
  let reportsDir: string;
  const lines: Array<{ obj: Record<string, unknown>; msg?: string | undefined }> = [];
  const logger: DashboardLogger = {
    info: (obj, msg) => lines.push({ obj: obj as Record<string, unknown>, msg }),
    warn: (obj, msg) => lines.push({ obj: obj as Record<string, unknown>, msg }),
    error: (obj, msg) => lines.push({ obj: obj as Record<string, unknown>, msg }),
  };

  beforeAll(async () => {
    queues = createQueues(r.redis, r.prefix, { applyAttempts: 2, applyBackoffMs: 100 });
    store = createEmbeddedStore(r.redis, r.prefix);
    reportsDir = await mkdtemp(join(tmpdir(), 'ivr-dash-sec-'));
  });
  afterAll(async () => {
    await queues?.close();
    await r.cleanup();
    if (reportsDir) await rm(reportsDir, { recursive: true, force: true });
  });

  const make = (extra: Partial<Parameters<typeof createDashboardApp>[0]> = {}) =>
    createDashboardApp({ queues: queues.all, store, reportsDir, adminToken: TOKEN, logger, ...extra });

  it('a browser without credentials gets the HTML sign-in page (401, no Basic prompt); API clients get JSON', async () => {
    const app = make();
    const page = await app.request('/admin/heatmap?range=1h', { headers: HTML });
    expect(page.status).toBe(401);
    expect(page.headers.get('www-authenticate')).toBeNull();
    const html = await page.text();
    expect(html).toContain('action="/admin/sign-in"');
    expect(html).toContain('name="next" value="/admin/heatmap?range=1h"');
    const api = await app.request('/admin/heatmap', { headers: { accept: 'application/json' } });
    expect(api.status).toBe(401);
    expect(api.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
  });

  it('signs in with the token into an HttpOnly SameSite=Strict cookie, works with it, and signs out', async () => {
    const app = make();
    const form = (token: string, next = '/admin/failures') => new URLSearchParams({ token, next }).toString();
    const formHeaders = { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost', 'sec-fetch-site': 'same-origin' };

    const wrong = await app.request('http://localhost/admin/sign-in', { method: 'POST', headers: formHeaders, body: form('nope') });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    expect(await wrong.text()).toContain('That is not the admin token.');

    const ok = await app.request('http://localhost/admin/sign-in', { method: 'POST', headers: formHeaders, body: form(TOKEN) });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/admin/failures');
    const set = ok.headers.get('set-cookie')!;
    expect(set).toContain(`${SESSION_COOKIE}=`);
    expect(set).toMatch(/HttpOnly/);
    expect(set).toMatch(/SameSite=Strict/);
    expect(set).toMatch(/Path=\/admin/);
    expect(set).not.toMatch(/Secure/); // plain http (a test / loopback); https below
    const cookie = cookieFrom(ok);

    const home = await app.request('http://localhost/admin', { headers: { ...HTML, cookie } });
    expect(home.status).toBe(200);
    expect(await home.text()).toContain('Sign out');

    // a tampered cookie is no session
    const forged = cookie.replace(/=(\d+)\./, (_m, n: string) => `=${Number(n) + 1}.`);
    expect((await app.request('http://localhost/admin', { headers: { ...HTML, cookie: forged } })).status).toBe(401);

    // an open redirect is not possible through next=
    const evil = await app.request('http://localhost/admin/sign-in', { method: 'POST', headers: formHeaders, body: form(TOKEN, '//evil.example/admin') });
    expect(evil.headers.get('location')).toBe('/admin');

    const out = await app.request('http://localhost/admin/sign-out', { method: 'POST', headers: { ...formHeaders, cookie } });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/admin/sign-in');
    expect(out.headers.get('set-cookie')).toMatch(new RegExp(`${SESSION_COOKIE}=;.*Max-Age=0`));

    const https = await app.request('https://dash.example/admin/sign-in', {
      method: 'POST',
      headers: { ...formHeaders, origin: 'https://dash.example' },
      body: form(TOKEN),
    });
    expect(https.headers.get('set-cookie')).toMatch(/Secure/);
    expect(lines.some((l) => (l.obj.audit as { action?: string } | undefined)?.action === 'sign-in')).toBe(true);
  });

  it('refuses cross-site state changes (form posts, Bull Board API), allows same-origin and non-browser clients', async () => {
    const app = make();
    const attempts: Array<Record<string, string>> = [
      { origin: 'http://evil.example' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { origin: 'null' },
    ];
    for (const h of attempts) {
      const gen = await app.request('http://localhost/admin/generate-heatmap', { method: 'POST', headers: { ...bearer, ...h } });
      expect(gen.status, JSON.stringify(h)).toBe(403);
      expect(((await gen.json()) as { error: { code: string } }).error.code).toBe('csrf');
      const pause = await app.request(`http://localhost/admin/queues/api/queues/${QUEUE_NAMES.events}/pause`, { method: 'PUT', headers: { ...bearer, ...h } });
      expect(pause.status).toBe(403);
      const signIn = await app.request('http://localhost/admin/sign-in', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...h },
        body: `token=${TOKEN}`,
      });
      expect(signIn.status).toBe(403);
    }
    expect(await queues.events.isPaused()).toBe(false);
    const same = await app.request('http://localhost/admin/generate-heatmap', { method: 'POST', headers: { ...bearer, origin: 'http://localhost', 'sec-fetch-site': 'same-origin' } });
    expect(same.status).toBe(200);
    const curl = await app.request('http://localhost/admin/generate-heatmap', { method: 'POST', headers: bearer });
    expect(curl.status).toBe(200);
    // GET needs no check and changes nothing
    expect((await app.request('http://localhost/admin/heatmap', { headers: { ...bearer, 'sec-fetch-site': 'cross-site' } })).status).toBe(200);
  });

  it('throttles wrong guesses per client address (429 + Retry-After, even for the right token then)', async () => {
    let t = 1_000_000;
    const app = make({ throttle: new GuessThrottle(10, 60_000, 1000, () => t), clientAddress: (c) => c.req.header('x-test-client') ?? 'unknown' });
    const from = (addr: string, token: string) => app.request('/admin/metrics', { headers: { 'x-test-client': addr, Authorization: `Bearer ${token}` } });
    for (let i = 0; i < 10; i++) expect((await from('10.0.0.1', `guess-${i}`)).status).toBe(401);
    const blocked = await from('10.0.0.1', TOKEN);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBe(60);
    expect((await from('10.0.0.2', TOKEN)).status).toBe(200);
    t += 60_000;
    expect((await from('10.0.0.1', TOKEN)).status).toBe(200);
  });

  it('writes an audit line (who, what, when) for regenerate, retry, pause; not for reads', async () => {
    const app = make();
    lines.length = 0;
    await app.request('/admin/generate-heatmap', { method: 'POST', headers: bearer });
    await app.request('/admin/failures/retry-retryable', { method: 'POST', headers: { Authorization: `Basic ${Buffer.from(`ops-anna:${TOKEN}`).toString('base64')}` } });
    await app.request(`/admin/queues/api/queues/${QUEUE_NAMES.reports}/pause`, { method: 'PUT', headers: bearer });
    await app.request(`/admin/queues/api/queues/${QUEUE_NAMES.reports}/resume`, { method: 'PUT', headers: bearer });
    await app.request('/admin/heatmap', { headers: bearer });
    const audits = lines.filter((l) => l.msg === 'admin action').map((l) => l.obj.audit as Record<string, unknown>);
    expect(audits.map((a) => [a.actor, a.action, a.route ?? null])).toEqual([
      ['bearer', 'regenerate-heatmap', null],
      ['basic:ops-anna', 'retry-retryable', null],
      ['bearer', 'bull-board', `queues/${QUEUE_NAMES.reports}/pause`],
      ['bearer', 'bull-board', `queues/${QUEUE_NAMES.reports}/resume`],
    ]);
    for (const a of audits) expect(Date.parse(String(a.at))).toBeGreaterThan(0);
    expect(await queues.reports.isPaused()).toBe(false);
  });

  it('the Bull Board "release" of a rate limit is refused and leaves the limiter key', async () => {
    const app = make();
    await queues.writes.rateLimit(60_000); // what the apply worker does on a Genesys 429
    const res = await app.request(`/admin/queues/api/queues/${QUEUE_NAMES.writes}/rate-limit/release`, { method: 'PUT', headers: bearer });
    expect(res.status).toBe(409);
    expect(await queues.writes.getRateLimitTtl()).toBeGreaterThan(0);
    await queues.writes.removeRateLimitKey();
  });
});
