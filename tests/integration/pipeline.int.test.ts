import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { waitFor } from '@ivr/testing';
import { decisionIdFor, jobIdFor, scopedKey } from '@ivr/core';
import { startPipeline, type Pipeline } from './pipeline-harness';

type Conv = { participants: Array<{ id: string; attributes: Record<string, string> }> } | undefined;

describe('the whole pipeline: webhook -> decide -> Genesys attributes -> store -> heatmap', () => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline({ TARGET_QUEUE_ID: 'q-main', OCCUPANCY_THRESHOLD: '5' });
  });
  afterAll(() => p.close());
  beforeEach(async () => {
    await p.sim.control.clearFaults();
  });

  const attributesOf = async (cid: string, pid: string) => {
    const c = (await p.sim.control.conversation(cid)) as Conv;
    return c?.participants.find((x) => x.id === pid)?.attributes;
  };

  it("the tutorial's payload: the decision lands as participant attributes and in the store", async () => {
    await p.sim.control.setQueue('q-main', { idle: 6 });
    const start = Date.now();
    const res = await p.post({ flowInstanceId: 'flow-tut-1', participants: [{ id: 'cust-1', input: { dtmf: '1' } }] });
    expect(res.status).toBe(202);
    const attrs = await waitFor(() => attributesOf('flow-tut-1', 'cust-1'), 'attributes in the simulator', 10000, 10);
    console.log(`tutorial payload -> attributes in the simulator after ${Date.now() - start} ms`);
    expect(attrs).toEqual({ finalRoutingDecision: 'route_to_queue', queueOccupancyCheck: 'passed' });
    await waitFor(async () => (await p.workers.store.count()) >= 1, 'the decision in the store');
    const heat = await p.workers.store.heatmap();
    const row = heat.dtmfByRoute.rows.indexOf('1');
    expect(heat.dtmfByRoute.counts[row]![heat.dtmfByRoute.cols.indexOf('route_to_queue')]).toBe(1);
  });

  it('available >= threshold -> queue, below -> voicemail (live observations, absent metric = 0)', async () => {
    await p.sim.control.setQueue('q-main', { idle: 5 });
    const a = await p.post({ conversationId: 'c-thr-a', participantId: 'p', dtmf: '2' }, { prefer: 'wait=5' });
    await p.sim.control.setQueue('q-main', { idle: 4 });
    const b = await p.post({ conversationId: 'c-thr-b', participantId: 'p', dtmf: '2' }, { prefer: 'wait=5' });
    await p.sim.control.setQueue('q-main', { idle: 0, interacting: 3 });
    const c = await p.post({ conversationId: 'c-thr-c', participantId: 'p', dtmf: '2' }, { prefer: 'wait=5' });
    expect([a.body.routing, b.body.routing, c.body.routing]).toEqual(['route_to_queue', 'route_to_vm', 'route_to_vm']);
    expect([a.body.availableAgents, b.body.availableAgents, c.body.availableAgents]).toEqual([5, 4, 0]);
  });

  it('Prefer: wait returns the decision in the response; a repeat with the same key returns the same decision', async () => {
    await p.sim.control.setQueue('q-main', { idle: 9 });
    const first = await p.post({ conversationId: 'c-wait', participantId: 'p', dtmf: '3' }, { prefer: 'wait=5', 'idempotency-key': 'wait-1' });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ status: 'decided', routing: 'route_to_queue', availableAgents: 9 });
    await p.sim.control.setQueue('q-main', { idle: 0 });
    const again = await p.post({ conversationId: 'c-wait', participantId: 'p', dtmf: '3' }, { prefer: 'wait=5', 'idempotency-key': 'wait-1' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'decided', routing: 'route_to_queue', decisionId: first.body.decisionId });
  });

  it('409 conflicts are retried with backoff until the write lands', async () => {
    await p.sim.control.setQueue('q-main', { idle: 9 });
    await p.sim.control.fault({ match: 'c-409', status: 409, rate: 1, count: 3 });
    const res = await p.post({ conversationId: 'c-409', participantId: 'p', dtmf: '1' });
    const jobId = jobIdFor('apply', await decisionIdOf(res.body.idempotencyKey as string));
    const attrs = await waitFor(() => attributesOf('c-409', 'p'), 'attributes after 409s', 15000);
    expect(attrs.finalRoutingDecision).toBe('route_to_queue');
    const job = await p.receiver.queues.writes.getJob(jobId);
    await waitFor(async () => (await job?.isCompleted()) ?? false, 'apply job completed');
    const done = await p.receiver.queues.writes.getJob(jobId);
    expect(done?.attemptsMade).toBe(4); // 3 conflicts + the write that landed
  });

  it('404 is not retried: the job fails once with Genesys message and contextId', async () => {
    await p.sim.control.fault({ match: 'c-404', status: 404, rate: 1 });
    const res = await p.post({ conversationId: 'c-404', participantId: 'p', dtmf: '1' });
    const jobId = jobIdFor('apply', await decisionIdOf(res.body.idempotencyKey as string));
    const failed = await waitFor(async () => {
      const j = await p.receiver.queues.writes.getJob(jobId);
      return j && (await j.isFailed()) ? j : undefined;
    }, 'apply job failed');
    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toMatch(/Genesys 404/);
    expect(failed.failedReason).toMatch(/contextId [0-9a-f-]{8,}/);
  });

  it('429 pauses the queue for Retry-After and does not use an attempt', async () => {
    await p.sim.control.fault({ match: 'c-429', status: 429, rate: 1, count: 1, retryAfterS: 1 });
    const start = Date.now();
    const res = await p.post({ conversationId: 'c-429', participantId: 'p', dtmf: '1' });
    const jobId = jobIdFor('apply', await decisionIdOf(res.body.idempotencyKey as string));
    await waitFor(() => attributesOf('c-429', 'p'), 'attributes after 429', 15000);
    const elapsed = Date.now() - start;
    const job = await waitFor(async () => {
      const j = await p.receiver.queues.writes.getJob(jobId);
      return j && (await j.isCompleted()) ? j : undefined;
    }, 'apply job completed');
    expect(job.attemptsMade).toBeLessThanOrEqual(1);
    expect(elapsed).toBeGreaterThanOrEqual(900); // Retry-After honoured (a lower bound on behaviour, not a speed check)
  });

  it('Genesys unreachable while deciding: fail open to DEFAULT_ROUTE, recorded with the reason', async () => {
    await p.sim.control.setQueue('q-main', { idle: 0 });
    await p.sim.control.fault({ match: 'observations', status: 503, rate: 1 });
    const res = await p.post({ conversationId: 'c-open', participantId: 'p', dtmf: '4' }, { prefer: 'wait=5' });
    expect(res.body).toMatchObject({ status: 'decided', routing: 'route_to_queue', occupancySource: 'fail_open' });
    expect(String(res.body.reason)).toMatch(/observations unavailable.*503/);
  });

  it('a later key press on the same conversation supersedes the older decision; the newer is written last', async () => {
    await p.sim.control.setQueue('q-main', { idle: 9 });
    await p.sim.control.fault({ match: 'c-sup', status: 409, rate: 1, count: 2 }); // the first write keeps conflicting
    await p.post({ conversationId: 'c-sup', participantId: 'p', dtmf: '1' }, { 'idempotency-key': 'sup-old' });
    await new Promise((r) => setTimeout(r, 30));
    await p.sim.control.setQueue('q-main', { idle: 0 });
    await p.post({ conversationId: 'c-sup', participantId: 'p', dtmf: '2' }, { 'idempotency-key': 'sup-new', prefer: 'wait=5' });
    await waitFor(async () => (await attributesOf('c-sup', 'p'))?.finalRoutingDecision === 'route_to_vm', 'the newer decision written');
    await new Promise((r) => setTimeout(r, 600)); // give the older job every chance to (wrongly) write after it
    expect((await attributesOf('c-sup', 'p'))?.finalRoutingDecision).toBe('route_to_vm');
  });

  it('after a batch the heatmap file is regenerated with the stored counts', async () => {
    await waitFor(async () => {
      try {
        return readFileSync(`${p.config.REPORTS_DIR}/heatmap.html`, 'utf8').includes('heatmap-dtmf');
      } catch {
        return false;
      }
    }, 'reports/heatmap.html', 10000, 100);
  });

  /** The decision id of a keyless webhook (its key was derived from the body: the `body` key space). */
  async function decisionIdOf(key: string): Promise<string> {
    return decisionIdFor(scopedKey(key, 'body'));
  }
});
