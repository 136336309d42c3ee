/**
 * The operator console against the whole pipeline (simulator, receiver, real workers, real BullMQ, embedded store):
 * find a call by any of its ids and see each Genesys attempt, failures grouped with hints, "retry all retryable"
 * leaving 404s alone, fail-open decisions as "unknown", the 429-only badge.
 */
import { scopedKey } from '@ivr/core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'bullmq';
import { QUEUE_NAMES, keyspace } from '@ivr/queue-contract';
import { findCall, genesysPauseMs, groupFailed, jobIdsForKey } from '@ivr/ops';
import { storePushedObservations } from '@ivr/pipeline';
import { waitFor } from '@ivr/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPipeline, type Pipeline } from '../../../tests/integration/pipeline-harness';
import { createDashboardApp } from './app';

const TOKEN = 'console-int-token-7c1d9';
const H = { Authorization: `Bearer ${TOKEN}`, accept: 'text/html' };

describe('operator console on the real pipeline', () => {
  let p: Pipeline;
  let app: ReturnType<typeof createDashboardApp>;
  let reportsDir: string;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    p = await startPipeline({ TARGET_QUEUE_ID: 'q-console', OCCUPANCY_THRESHOLD: '3', APPLY_ATTEMPTS: '3', APPLY_BACKOFF_MS: '30' });
    reportsDir = await mkdtemp(join(tmpdir(), 'ivr-console-'));
    app = createDashboardApp({ queues: p.receiver.queues.all, store: p.workers.store, reportsDir, adminToken: TOKEN });
    await p.sim.control.setQueue('q-console', { idle: 6 });
    // Calls exist before their webhooks (the strict simulator answers 404 for any other).
    for (const cid of ['c-journey', 'c-gone', 'c-flaky', 'c-failopen']) await p.sim.control.createConversation(cid, { customerId: 'cust' });
    // c-journey: two 503s, then the write lands; c-gone: 404 (call ended); c-flaky: 503 on every attempt.
    await p.sim.control.fault({ match: 'c-journey', status: 503, rate: 1, count: 2 });
    await p.sim.control.fault({ match: 'c-gone', status: 404, rate: 1 });
    await p.sim.control.fault({ match: 'c-flaky', status: 503, rate: 1 });
    for (const cid of ['c-journey', 'c-gone', 'c-flaky']) {
      const res = await p.post({ conversationId: cid, participantId: 'cust', dtmf: '1' });
      expect(res.status).toBe(202);
      keys[cid] = res.body.idempotencyKey as string;
    }
    const writes = p.receiver.queues.writes;
    await waitFor(async () => (await writes.getJobState(jobIdsForKey(scopedKey(keys['c-journey']!, 'body')).apply)) === 'completed', 'c-journey written', 20000);
    await waitFor(async () => (await writes.getFailedCount()) === 2, 'c-gone and c-flaky failed', 20000);
    await waitFor(async () => (await p.workers.store.count()) >= 3, 'three decisions stored', 20000);
  }, 60000);

  afterAll(async () => {
    await p?.close();
    if (reportsDir) await rm(reportsDir, { recursive: true, force: true });
  });

  const lookupDeps = async () => {
    const q = p.receiver.queues;
    return { queues: { events: q.events, writes: q.writes, reports: q.reports }, redis: (await q.events.backend.client) as unknown as Redis, ks: keyspace(p.prefix) };
  };

  it('finds a call by conversation id, idempotency key, decision id and each job id, with every Genesys attempt', async () => {
    const deps = await lookupDeps();
    const byConv = await findCall(deps, 'c-journey');
    expect(byConv?.matchedAs).toBe('conversation id');
    expect(byConv?.apply?.attempts.map((a) => [a.attempt, a.outcome, a.status ?? null])).toEqual([
      [1, 'retry', 503],
      [2, 'retry', 503],
      [3, 'applied', 200],
    ]);
    expect(byConv?.apply?.attempts[0]?.contextId).toBeTruthy();
    expect(byConv?.decision).toMatchObject({ conversationId: 'c-journey', routing_decision: 'route_to_queue', queue_occupancy: 6, threshold: 3 });
    const ids = jobIdsForKey(scopedKey(keys['c-journey']!, 'body'));
    for (const [q, as] of [
      [keys['c-journey']!, 'idempotency key'],
      [ids.decisionId, 'decision id'],
      [ids.event, 'job id'],
      [ids.apply, 'job id'],
    ] as const) {
      const j = await findCall(deps, q);
      // today's event job id may equal the key itself (jobIdForKey keeps safe keys verbatim): then it matches as the key
      expect(j?.matchedAs, q).toBe(q === keys['c-journey'] ? 'idempotency key' : as);
      expect(j?.idempotencyKey).toBe(keys['c-journey']);
    }
    expect(await findCall(deps, 'no-such-call')).toBeNull();
    // The decide worker sent its report in a report-batch job (no report job of its own): the journey names that job.
    expect(await p.receiver.queues.reports.getJob(ids.report)).toBeUndefined();
    expect(byConv?.report).toMatchObject({ name: 'report-batch', state: 'completed' });

    const page = await app.request('/admin/events?q=c-journey', { headers: H });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('id="journey-attempts"');
    expect(html.match(/<td class="warn"[^>]*>retry<\/td><td[^>]*>503<\/td>/g)).toHaveLength(2);
    expect(html).toMatch(/<td class="ok"[^>]*>applied<\/td><td[^>]*>200<\/td>/);
    expect(html).toContain('<p class="ok">Stored.</p>');
    // the request headers that matter, kept with the event (never credentials)
    expect(html).toMatch(/<dl class="kv" id="journey-headers"><dt>content-type<\/dt><dd><code>application\/json<\/code><\/dd>/);
    expect(html).not.toMatch(/receivedAt/); // shown as a time, not an epoch number
    expect((await app.request('/admin/events?q=nothing-here', { headers: H })).status).toBe(404);
  });

  it('a call decided in-call: the write card shows the outcome the receiver settled, from the stored record', async () => {
    // The queue's figures in the shared cache (as pushed), so the receiver decides while the caller waits.
    await storePushedObservations(p.redis, keyspace(p.prefix), [{ observation: { queueId: 'q-incall', idle: 6, interacting: 0, waiting: 0, mediaType: 'voice', observedAt: Date.now() }, ttlMs: 60_000 }]);
    await p.sim.control.createConversation('c-incall', { customerId: 'cust' });
    const res = await p.post({ conversationId: 'c-incall', participantId: 'cust', dtmf: '1', queueId: 'q-incall' }, { prefer: 'wait=3' });
    expect(res.body).toMatchObject({ status: 'decided', occupancySource: 'notification' });
    const decisionId = String(res.body.decisionId);
    await waitFor(async () => (await p.workers.store.getDecision(decisionId) as { writeStatus?: string } | null)?.writeStatus === 'skipped', 'the settled write recorded', 20000);
    const html = await (await app.request('/admin/events?q=c-incall', { headers: H })).text();
    expect(html).toMatch(/id="journey-write-outcome">\s*<dt>Outcome<\/dt><dd class="ok">skipped<\/dd>/);
    expect(html).toContain('delivered in the synchronous answer');
    expect(html).not.toContain('No Genesys write job kept');
    // Its report went in a report-batch job (the receiver batches its in-call reports): the card names that job, and
    // the decision id finds the call through it.
    expect(html).toMatch(/id="journey-report-batch">this call's report alone \(decisions are reported in batches\)/);
    expect(html).toMatch(/<code>decision-reports \/ B\d{39}<\/code>/);
    expect((await findCall(await lookupDeps(), decisionId))).toMatchObject({ matchedAs: 'decision id', report: { name: 'report-batch', state: 'completed' } });
    // An event decided in-call never had a job: the webhook card shows what the decision record keeps of it.
    expect(html).toMatch(/id="journey-webhook-from-decision">[\s\S]*<dt>Conversation<\/dt><dd><code>c-incall<\/code><\/dd>[\s\S]*<dt>Digits<\/dt><dd><code>1<\/code><\/dd>/);
  });

  it('an event held for an in-call decision (no job yet) is found by its key and shown with its deadline', async () => {
    const ks = keyspace(p.prefix);
    const jobId = jobIdsForKey(scopedKey('held-console-1', 'client')).event;
    const dueAt = Date.now() + 60_000;
    // As the receiver's ingest leaves it (holdScript); nothing decides it here.
    const event = { idempotencyKey: 'held-console-1', receivedAt: dueAt - 2000, answerBy: dueAt, conversationId: 'c-held', participantId: 'cust', flowInstanceId: 'c-held', dtmf: '2', source: 'data-action', headers: { 'content-type': 'application/json' } };
    await p.redis.multi().hset(ks.heldEvents, jobId, JSON.stringify(event)).zadd(ks.held, dueAt, jobId).exec();
    try {
      expect(await findCall(await lookupDeps(), 'held-console-1')).toMatchObject({ matchedAs: 'idempotency key', event: null, held: { dueAt: new Date(dueAt).toISOString(), event: { conversationId: 'c-held', dtmf: '2' } } });
      const html = await (await app.request('/admin/events?q=held-console-1', { headers: H })).text();
      expect(html).toMatch(/id="journey-webhook">[\s\S]*<dt>Idempotency key<\/dt><dd><code>held-console-1<\/code><\/dd>/);
      expect(html).toMatch(/<p id="journey-held">Held for an in-call decision until [\s\S]*: no job yet\./);
    } finally {
      await p.redis.multi().hdel(ks.heldEvents, jobId).zrem(ks.held, jobId).exec();
    }
    expect(await findCall(await lookupDeps(), 'held-console-1')).toBeNull(); // released: nothing left to find
  });

  it('Bull Board shows display names and links each job to its journey', async () => {
    const res = await app.request(`/admin/queues/api/queues?activeQueue=${QUEUE_NAMES.writes}&status=failed`, { headers: { Authorization: H.Authorization } });
    const body = (await res.json()) as { queues: Array<{ name: string; displayName?: string; description?: string; jobs: Array<{ externalUrl?: { href: string; displayText: string } }> }> };
    const writes = body.queues.find((q) => q.name === QUEUE_NAMES.writes)!;
    expect(writes.displayName).toBe('Genesys writes (apply)');
    expect(writes.description).toMatch(/participant attributes/);
    expect(writes.jobs.length).toBe(2);
    for (const j of writes.jobs) expect(j.externalUrl?.href).toMatch(/^\/admin\/events\?q=/);
    // Every decision-reports job is a batch (reports, write outcomes): each links to the journey of its first call, by decision id.
    const rep = await app.request(`/admin/queues/api/queues?activeQueue=${QUEUE_NAMES.reports}&status=completed`, { headers: { Authorization: H.Authorization } });
    const reports = ((await rep.json()) as typeof body).queues.find((q) => q.name === QUEUE_NAMES.reports)!;
    expect(reports.jobs.length).toBeGreaterThan(0);
    for (const j of reports.jobs) {
      expect(j.externalUrl).toMatchObject({ displayText: expect.stringMatching(/^Call journey \(first of \d+\)$/), href: expect.stringMatching(/^\/admin\/events\?q=d-[0-9a-f]{24}$/) });
    }
  });

  it('groups failures by reason with a hint; "retry all retryable" leaves the 404 alone', async () => {
    const groups = await groupFailed(p.receiver.queues.all);
    const gone = groups.find((g) => g.status === 404)!;
    const flaky = groups.find((g) => g.status === 503)!;
    expect(gone).toMatchObject({ queue: QUEUE_NAMES.writes, count: 1, retryable: false });
    expect(gone.hint).toMatch(/call ended/);
    expect(flaky).toMatchObject({ count: 1, retryable: true });
    const page = await (await app.request('/admin/failures', { headers: H })).text();
    expect(page).toContain('Retry 1 retryable job');
    expect(page).toContain('conversation or participant no longer exists');

    await p.sim.control.clearFaults();
    await p.sim.control.fault({ match: 'c-gone', status: 404, rate: 1 });
    const res = await app.request('/admin/failures/retry-retryable', { method: 'POST', headers: { Authorization: H.Authorization, accept: 'application/json' } });
    expect(await res.json()).toEqual({ retried: 1, left: 1 });
    const writes = p.receiver.queues.writes;
    await waitFor(async () => (await writes.getJobState(jobIdsForKey(scopedKey(keys['c-flaky']!, 'body')).apply)) === 'completed', 'c-flaky written after the retry', 20000);
    expect(await writes.getJobState(jobIdsForKey(scopedKey(keys['c-gone']!, 'body')).apply)).toBe('failed');
  });

  it('records a fail-open decision as unknown occupancy and shows it in its own heatmap row', async () => {
    await p.sim.control.fault({ match: 'observations', status: 503, rate: 1 });
    const res = await p.post({ conversationId: 'c-failopen', participantId: 'cust', dtmf: '2' }, { prefer: 'wait=8' });
    await p.sim.control.clearFaults();
    expect(res.status).toBe(200);
    expect(res.body.occupancySource).toBe('fail_open');
    const key = res.body.decisionId as string;
    const stored = await waitFor(() => p.workers.store.getDecision(key), 'the fail-open decision stored', 20000);
    expect(stored.queue_occupancy).toBeNull();
    const h = await p.workers.store.heatmap({ from: new Date(Date.now() - 3600_000).toISOString(), to: new Date(Date.now() + 1000).toISOString() });
    const row = h.agentsByRoute.rows.indexOf('unknown');
    expect(row).toBeGreaterThanOrEqual(0);
    expect(h.agentsByRoute.counts[row]!.reduce((a, b) => a + b, 0)).toBe(1);
    const page = await (await app.request('/admin/heatmap?range=1h', { headers: H })).text();
    expect(page).toContain('unknown (Genesys unavailable)');
    const home = await (await app.request('/admin', { headers: H })).text();
    expect(home).toMatch(/<td class="num warn" data-label="Genesys unavailable">1<\/td>/); // in the last 15 min
  });

  it('the rate-limit badge shows a Genesys 429 pause only, not the limiter window', async () => {
    const writes = p.receiver.queues.writes;
    // A worker with a BullMQ limiter (max 100 / min) processes one job: the limiter window opens, no 429 happened.
    const name = 'limiter-probe';
    const conn = ((await writes.backend.client) as unknown as Redis).duplicate({ maxRetriesPerRequest: null });
    const { Queue } = await import('bullmq');
    const probe = new Queue(name, { connection: conn, prefix: p.prefix });
    const w = new Worker(name, async () => 'ok', { connection: conn.duplicate({ maxRetriesPerRequest: null }), prefix: p.prefix, limiter: { max: 100, duration: 60_000 } });
    await probe.add('x', {});
    await waitFor(async () => (await probe.getCompletedCount()) === 1, 'probe job done');
    expect(await probe.getRateLimitTtl()).toBeGreaterThan(0); // what Bull Board used to show as "rate limited"
    expect(await genesysPauseMs(probe)).toBe(0);
    await w.close();
    await probe.obliterate({ force: true });
    await probe.close();
    conn.disconnect();

    await writes.rateLimit(30_000); // what the apply worker does on a Genesys 429
    expect(await genesysPauseMs(writes)).toBeGreaterThan(25_000);
    const res = await app.request(`/admin/queues/api/queues?activeQueue=${QUEUE_NAMES.writes}`, { headers: { Authorization: H.Authorization } });
    const body = (await res.json()) as { queues: Array<{ name: string; activeRateLimitTtl: number }> };
    expect(body.queues.find((q) => q.name === QUEUE_NAMES.writes)!.activeRateLimitTtl).toBeGreaterThan(25_000);
    expect(body.queues.find((q) => q.name === QUEUE_NAMES.events)!.activeRateLimitTtl).toBe(0);
    expect(await (await app.request('/admin', { headers: H })).text()).toMatch(/Genesys 429: writes paused for \d+ s more/);
    await writes.removeRateLimitKey();
  });
});
