import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { testRedis, TEST_REDIS_URL, waitFor } from '@ivr/testing';
import { createQueues, type IvrQueues } from '@ivr/queue-contract';
import { createRedis } from '@ivr/redis';
import { keyspace, QUEUE_NAMES } from '@ivr/queue-contract';
import { createRecorder } from '@ivr/intake';
import { parseRecording, readRecording } from './recording';
import { progressPrinter, replay } from './replay';
import { loadObservedDecisions, whatIf } from './what-if';
import { failureGroupLabel, failureHint, groupFailed, isRetryableFailure, listFailed, retryFailedJob, retryRetryableFailed, selectQueues } from './failed';

describe('recorder → recording file', () => {
  it('appends one NDJSON line per accepted webhook, selected headers only, flushed on close', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ivr-rec-')), 'sub', 'rec.ndjson');
    const rec = createRecorder(path, { prefix: 'p1', flushMs: 10_000 });
    const headers = new Headers({ 'content-type': 'application/json', 'idempotency-key': 'k1', 'x-webhook-token': 'SECRET', authorization: 'Bearer SECRET', 'webhook-signature': 'v1,abc' });
    rec.record('{\n  "conversationId": "c1", "dtmf": "1"\n}', { idempotencyKey: 'k1', receivedAt: Date.UTC(2026, 0, 1) }, headers);
    rec.record('{"flowInstanceId":"c2","participants":[{"input":{"dtmf":"2"}}]}', { idempotencyKey: 'k2', receivedAt: Date.UTC(2026, 0, 1) });
    await rec.close();
    const text = readFileSync(path, 'utf8');
    expect(text.split('\n')).toHaveLength(3); // two lines + final newline: the pretty body was put on one line
    expect(text).not.toContain('SECRET');
    expect(text).not.toContain('v1,abc');
    const events = parseRecording(text);
    expect(events[0]).toEqual({ receivedAt: '2026-01-01T00:00:00.000Z', idempotencyKey: 'k1', prefix: 'p1', headers: { 'content-type': 'application/json', 'idempotency-key': 'k1' }, body: { conversationId: 'c1', dtmf: '1' } });
    expect(events[1]).toMatchObject({ idempotencyKey: 'k2', headers: {} });
    expect(rec.stats()).toEqual({ recorded: 2, written: 2, errors: 0 });
  });

  it('a bad line names file and line; a missing file says how to get one', async () => {
    expect(() => parseRecording('{"idempotencyKey":"a","body":{}}\nnope\n', 'r.ndjson')).toThrow(/r\.ndjson:2: not JSON/);
    expect(() => parseRecording('{"body":{}}\n', 'r.ndjson')).toThrow(/r\.ndjson:1: not a recorded webhook/);
    await expect(readRecording('/nonexistent/x.ndjson')).rejects.toThrow(/does not exist \(set RECORD_PATH/);
  });
});

describe('replay (real HTTP server)', () => {
  const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
  // A clock the server moves: the n-th request of a run "takes" n ms (for the latency summary, see below).
  let clock = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      const n = received.length;
      clock += n;
      res.writeHead(n % 5 === 0 ? 200 : n === 7 ? 503 : 202, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const a = server.address();
    url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const events = Array.from({ length: 20 }, (_, i) => ({ receivedAt: '', idempotencyKey: `key-${i}`, headers: { 'content-type': 'application/json' }, body: { conversationId: `c-${i}`, dtmf: '1' } }));

  it('sends every event once with its key, signs it, and summarises the answers', async () => {
    received.length = 0;
    const progress: number[] = [];
    const secret = `whsec_${Buffer.from('test-secret').toString('base64')}`;
    const s = await replay(events, { url: `${url}/`, concurrency: 4, webhookSecret: secret, keySuffix: '-r1', onProgress: (p) => progress.push(p.done) });
    expect(s.sent).toBe(20);
    expect(s.byStatus).toEqual({ 200: 4, 202: 15, 503: 1 });
    expect(received.map((r) => r.headers['idempotency-key']).sort()).toEqual(events.map((e) => `${e.idempotencyKey}-r1`).sort());
    expect(progress.at(-1)).toBe(20);
    const one = received[0]!;
    const mac = createHmac('sha256', Buffer.from('test-secret')).update(`${one.headers['webhook-id']}.${one.headers['webhook-timestamp']}.${one.body}`).digest('base64');
    expect(one.headers['webhook-signature']).toBe(`v1,${mac}`);
  });

  it('summarises latencies as nearest-rank percentiles of what each request took', async () => {
    received.length = 0;
    clock = 0;
    // one at a time, the n-th request takes n ms on the server's clock: latencies 1..20 ms, elapsed 1+..+20 = 210 ms
    const s = await replay(events, { url, concurrency: 1, now: () => clock });
    expect(s.sent).toBe(20);
    expect(s.p50Ms).toBe(10);
    expect(s.p99Ms).toBe(20);
    expect(s.elapsedMs).toBe(210);
  });

  it('--rate paces the sends (20 events at 100/s take at least 190 ms)', async () => {
    received.length = 0;
    const t = performance.now();
    const s = await replay(events, { url, rate: 100, concurrency: 8 });
    expect(s.sent).toBe(20);
    expect(performance.now() - t).toBeGreaterThanOrEqual(185);
  });

  it('a receiver that is not there is counted as errors with the reason', async () => {
    const s = await replay(events.slice(0, 2), { url: 'http://127.0.0.1:1', concurrency: 1 });
    expect(s.byStatus).toEqual({ error: 2 });
    expect(s.errors[0]).toMatch(/ECONNREFUSED|fetch failed/);
  });

  it('progress: non-TTY prints a line per tenth; TTY redraws one line', () => {
    const lines: string[] = [];
    const p = progressPrinter({ write: (s) => lines.push(s), isTTY: false });
    for (let i = 1; i <= 100; i++) p.update({ done: i, total: 100, elapsedMs: i * 10, byStatus: { 202: i } });
    expect(lines).toHaveLength(11); // the first answer, then one per tenth
    expect(lines.at(-1)).toContain('100/100');
    const tty: string[] = [];
    const q = progressPrinter({ write: (s) => tty.push(s), isTTY: true });
    q.update({ done: 100, total: 100, elapsedMs: 1000, byStatus: { 202: 100 } });
    q.end();
    expect(tty[0]).toMatch(/^\r\x1b\[2Kreplay \[#{30}\] 100\/100/);
    expect(tty.at(-1)).toBe('\n');
  });
});

describe('what-if reads the stored decisions (real Redis)', () => {
  const t = testRedis('whatif');
  afterAll(() => t.cleanup());

  it('finds each recorded key under the recorded prefix, or --prefix; counts the missing ones', async () => {
    const ks = keyspace(t.prefix);
    const decision = (key: string, dtmf: string, occ: number, route: string) =>
      JSON.stringify({ decisionId: `d-${key}`, idempotencyKey: key, dtmf, queue_occupancy: occ, routing_decision: route, occupancySource: 'poll', threshold: 5 });
    await t.redis.set(ks.decision('a'), decision('a', '1', 3, 'route_to_vm'));
    await t.redis.set(ks.decision('b'), decision('b', '2', 7, 'route_to_queue'));
    const events = ['a', 'b', 'c'].map((k) => ({ receivedAt: '', idempotencyKey: k, prefix: t.prefix, headers: {}, body: {} }));
    const found = await loadObservedDecisions(t.redis, events, 'ivr');
    expect(found.missing).toBe(1);
    expect(found.prefixes).toEqual([t.prefix]);
    expect(whatIf(found.decisions, { threshold: 2 })).toMatchObject({ total: 2, changed: 1, toQueue: 1 });
    const elsewhere = await loadObservedDecisions(t.redis, events, 'ivr', 'no-such-prefix');
    expect(elsewhere).toMatchObject({ decisions: [], missing: 3 });
  });
});

describe('failed / retry (real BullMQ)', () => {
  const t = testRedis('failed');
  let conn: Redis;
  let queues: IvrQueues;
  let worker: Worker;
  let healthy = false;

  beforeAll(async () => {
    conn = createRedis(TEST_REDIS_URL, 'worker');
    queues = createQueues(conn, t.prefix, { applyAttempts: 2, applyBackoffMs: 10 });
    worker = new Worker(
      QUEUE_NAMES.writes,
      async (job) => {
        if (healthy) return { ok: true };
        if (job.data.fatal) throw new UnrecoverableError('Genesys 404 not.found: conversation gone (contextId ctx-1)');
        throw new Error('Genesys 503 (will retry)');
      },
      { connection: createRedis(TEST_REDIS_URL, 'worker'), prefix: t.prefix, concurrency: 4 },
    );
  });
  afterAll(async () => {
    await worker.close();
    await queues.close();
    conn.disconnect();
    await t.cleanup();
  });

  it('lists failed jobs with reason, attempts and the event ids; retries one, then all', async () => {
    for (let i = 0; i < 4; i++) {
      await queues.writes.add('apply', { idempotencyKey: `k${i}`, conversationId: `c${i}`, decisionId: `d${i}`, fatal: i === 0 }, { jobId: `apply-d${i}`, backoff: { type: 'fixed', delay: 10 } });
    }
    await waitFor(async () => (await queues.writes.getFailedCount()) === 4, '4 failed jobs');

    const listed = await listFailed(selectQueues(queues.all, QUEUE_NAMES.writes), 10);
    expect(listed.counts).toEqual({ [QUEUE_NAMES.writes]: 4 });
    const fatal = listed.jobs.find((j) => j.jobId === 'apply-d0')!;
    expect(fatal).toMatchObject({ attemptsMade: 1, maxAttempts: 2, idempotencyKey: 'k0', conversationId: 'c0', decisionId: 'd0' });
    expect(fatal.failedReason).toContain('contextId ctx-1');
    expect(listed.jobs.find((j) => j.jobId === 'apply-d1')).toMatchObject({ attemptsMade: 2, failedReason: 'Genesys 503 (will retry)' });
    expect((await listFailed(queues.all, 1)).jobs).toHaveLength(1); // limit per queue

    healthy = true;
    // "retry all retryable": the three 503s go back, the 404 (the call ended) stays failed
    expect(await retryRetryableFailed(queues.all)).toEqual({
      [QUEUE_NAMES.events]: { retried: 0, left: 0 },
      [QUEUE_NAMES.writes]: { retried: 3, left: 1 },
      [QUEUE_NAMES.reports]: { retried: 0, left: 0 },
    });
    await waitFor(async () => (await queues.writes.getJobCounts('completed')).completed === 3, 'the three retryable jobs to complete');
    expect(await queues.writes.getJobState('apply-d0')).toBe('failed');
    const groups = await groupFailed(queues.all);
    expect(groups).toEqual([
      expect.objectContaining({ queue: QUEUE_NAMES.writes, reason: 'Genesys 404 not.found', status: 404, retryable: false, count: 1, jobIds: ['apply-d0'] }),
    ]);
    // one job, on purpose: an explicit single retry is allowed
    await expect(retryFailedJob(queues.all, 'apply-d0')).resolves.toEqual({ queue: QUEUE_NAMES.writes, jobId: 'apply-d0' });
    await waitFor(async () => (await queues.writes.getJobState('apply-d0')) === 'completed', 'the retried job to complete');
    await expect(retryFailedJob(queues.all, 'apply-d0')).rejects.toThrow(/is completed, not failed/);
    await expect(retryFailedJob(queues.all, 'nope')).rejects.toThrow(/no job nope in ivr-events, genesys-writes, decision-reports/);
    expect(await queues.writes.getFailedCount()).toBe(0);
    expect(() => selectQueues(queues.all, 'writes')).toThrow(/unknown queue "writes"; queues: ivr-events, genesys-writes, decision-reports/);
  });
});

describe('failure reasons', () => {
  it('labels, hints and retryability per Genesys status', () => {
    expect(failureGroupLabel('Genesys 404 not.found: conversation gone (contextId ctx-1) [attributes]')).toBe('Genesys 404 not.found');
    expect(failureGroupLabel('Genesys 503: Service Unavailable')).toBe('Genesys 503');
    expect(failureGroupLabel('another decision for conversation "abc-123" is being written; will retry')).toBe('another decision for conversation … is being written; will retry');
    for (const s of [400, 403, 404]) expect(isRetryableFailure(`Genesys ${s} x: y`)).toBe(false);
    for (const s of [409, 429, 500, 503]) expect(isRetryableFailure(`Genesys ${s} x: y`)).toBe(true);
    expect(isRetryableFailure('Genesys unreachable (ECONNREFUSED): connect')).toBe(true);
    expect(failureHint(403)).toMatch(/OAuth client's role/);
    expect(failureHint(404)).toMatch(/call ended/);
    expect(failureHint(400)).toMatch(/fails again/);
    expect(failureHint(409)).toMatch(/retry is safe/);
    expect(failureHint(429)).toMatch(/Retry-After/);
    expect(failureHint(502)).toMatch(/Genesys-side/);
    expect(failureHint(undefined, 'Genesys request timed out: x')).toMatch(/could not be reached/);
  });
});
