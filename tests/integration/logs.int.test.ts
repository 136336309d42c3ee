/**
 * Log lines of a whole pipeline run (receiver, decide, apply, report, worker failure events), written by the real
 * pino logger of createLogger: every line is strict JSON (no key twice: a strict parser rejects
 * `"decisionId":…,"decisionId":…`), messages are constant strings (the variable parts are fields), a job that fails
 * for good logs one error-level line, and only an attempt that BullMQ will run again says "will retry".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@ivr/config';
import { decisionIdFor, jobIdFor } from '@ivr/core';
import { parseExposition, parseStrictJson, waitFor } from '@ivr/testing';
import { startPipeline, type Pipeline } from './pipeline-harness';

type Line = Record<string, unknown> & { level: number; msg?: string };
const ERROR = 50;
const WARN = 40;

describe('log lines of a pipeline run', () => {
  const raw: string[] = [];
  let p: Pipeline;
  const failedFor = async (jobId: string) =>
    waitFor(async () => {
      const j = await p.receiver.queues.writes.getJob(jobId);
      return j && (await j.isFailed()) ? j : undefined;
    }, `${jobId} failed`, 15000);

  beforeAll(async () => {
    const logger = createLogger('pipeline', 'debug', { destination: { write: (s: string) => void raw.push(...s.split('\n').filter(Boolean)) } });
    p = await startPipeline({ TARGET_QUEUE_ID: 'q-logs', APPLY_ATTEMPTS: '2', APPLY_BACKOFF_MS: '20', LOG_LEVEL: 'debug' }, { logger });
    await p.sim.control.setQueue('q-logs', { idle: 9 });
    // Calls exist before their webhooks (the strict simulator answers 404 for any other).
    for (const cid of ['log-ok', 'log-404', 'log-503']) await p.sim.control.createConversation(cid, { customerId: 'p' });
    await p.sim.control.createConversation('log-flow', { customerId: 'cust' });

    // Decided and written (both payload shapes), a duplicate, a conflicting reuse of a key, a Prefer: wait.
    await p.post({ conversationId: 'log-ok', participantId: 'p', dtmf: '1' }, { 'idempotency-key': 'log-k1' });
    await p.post({ conversationId: 'log-ok', participantId: 'p', dtmf: '1' }, { 'idempotency-key': 'log-k1' });
    await p.post({ conversationId: 'log-ok', participantId: 'p', dtmf: '2' }, { 'idempotency-key': 'log-k1' });
    await p.post({ flowInstanceId: 'log-flow', participants: [{ id: 'cust', input: { dtmf: '3' } }] }, { prefer: 'wait=5' });
    // 404: refused for good at the first attempt. 503 on every attempt: both of APPLY_ATTEMPTS=2 used up.
    await p.sim.control.fault({ match: 'log-404', status: 404, rate: 1 });
    await p.sim.control.fault({ match: 'log-503', status: 503, rate: 1 });
    await p.post({ conversationId: 'log-404', participantId: 'p', dtmf: '1' }, { 'idempotency-key': 'log-k404' });
    await p.post({ conversationId: 'log-503', participantId: 'p', dtmf: '1' }, { 'idempotency-key': 'log-k503' });

    await failedFor(jobIdFor('apply', decisionIdFor('log-k404')));
    await failedFor(jobIdFor('apply', decisionIdFor('log-k503')));
    await waitFor(async () => (await p.workers.store.count()) >= 4, 'four decisions stored');
    // The worker's `failed` event (and its log line) follows the move to the failed set: wait for the lines themselves.
    await waitFor(() => raw.filter((l) => l.includes('"job failed for good"')).length >= 2, 'both final-failure lines');
  }, 60_000);
  afterAll(() => p?.close());

  const lines = () => raw.map((l) => parseStrictJson(l) as Line);
  const about = (key: string) => lines().filter((l) => l.idempotencyKey === key);

  it('every line is strict JSON: no key appears twice in one line (the decided line had decisionId twice)', () => {
    expect(raw.length).toBeGreaterThan(15);
    for (const l of raw) expect(() => parseStrictJson(l), l).not.toThrow();
    const decided = lines().filter((l) => l.msg === 'decided');
    expect(decided.length).toBeGreaterThanOrEqual(4);
    for (const d of decided) {
      for (const f of ['idempotencyKey', 'conversationId', 'jobId', 'decisionId']) expect(d[f], f).toBeTruthy();
      expect((raw.find((r) => r.includes(`"jobId":"${d.jobId}"`) && r.includes('"msg":"decided"'))!.match(/"decisionId":/g) ?? []).length).toBe(1);
    }
  });

  it('messages are constant: no id, key, digit string or Genesys text inside msg', () => {
    const ids = lines().flatMap((l) => [l.idempotencyKey, l.conversationId, l.jobId, l.decisionId, l.contextId, l.url]).filter((v): v is string => typeof v === 'string' && v.length > 3);
    for (const l of lines()) {
      const msg = String(l.msg ?? '');
      for (const id of ids) expect(msg.includes(id), `${JSON.stringify(msg)} embeds ${id}`).toBe(false);
      expect(msg, 'Genesys text belongs in a field').not.toMatch(/Genesys \d{3}|contextId|\d{3,}/);
    }
  });

  it('a write refused for good (404) logs one error line, and never "will retry"', () => {
    const l = about('log-k404');
    expect(l.filter((x) => x.level >= ERROR).map((x) => x.msg)).toEqual(['job failed for good']);
    const fail = l.find((x) => x.msg === 'job failed for good')!;
    expect(fail).toMatchObject({ queue: 'genesys-writes', attemptsMade: 1, decisionId: decisionIdFor('log-k404') });
    expect(String(fail.err)).toMatch(/Genesys 404/);
    expect(l.find((x) => x.msg === 'Genesys write refused; not retried')).toMatchObject({ level: WARN, status: 404, attempt: 1 });
    expect(l.filter((x) => /will retry/.test(String(x.msg)))).toEqual([]);
  });

  it('503 on every attempt: the first attempt says "will retry", the last one does not, then one error line', () => {
    const l = about('log-k503');
    const writes = l.filter((x) => String(x.msg).startsWith('Genesys write failed'));
    expect(writes.map((x) => [x.attempt, x.msg])).toEqual([
      [1, 'Genesys write failed; will retry'],
      [2, 'Genesys write failed; no attempts left'],
    ]);
    const attempts = l.filter((x) => x.queue === 'genesys-writes' && String(x.msg).startsWith('job '));
    expect(attempts.map((x) => [x.level, x.msg, x.attemptsMade])).toEqual([
      [WARN, 'job attempt failed; will retry', 1],
      [ERROR, 'job failed for good', 2],
    ]);
  });

  it("the same run in the workers' metrics: decision latency per decision, writes failed for good, no receiver series", async () => {
    const text = await p.workers.metrics.render();
    const s = parseExposition(text);
    const latencyCount = [...s.entries()].filter(([k]) => k.startsWith('ivr_decision_latency_seconds_count')).reduce((n, [, v]) => n + v, 0);
    const decisions = [...s.entries()].filter(([k]) => k.startsWith('ivr_decisions_total')).reduce((n, [, v]) => n + v, 0);
    expect(decisions).toBe(4);
    expect(latencyCount).toBe(decisions);
    expect(s.get('ivr_jobs_total{outcome=failed,queue=genesys-writes}')).toBe(2);
    expect(s.get('ivr_jobs_total{outcome=retrying,queue=genesys-writes}')).toBe(1);
    expect(text).not.toContain('# TYPE ivr_webhooks_total ');
    expect(text).not.toContain('# TYPE http_request_duration_seconds ');
  });

  it('a decided, written call logs its journey with the four ids and no error', () => {
    const l = about('log-k1');
    expect(l.map((x) => x.msg)).toEqual(expect.arrayContaining(['accepted', 'decided', 'applied']));
    expect(l.filter((x) => x.level >= WARN).map((x) => x.msg)).toEqual(['idempotency key reused with a different body']);
  });
});
