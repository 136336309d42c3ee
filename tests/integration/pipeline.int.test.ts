import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { waitFor } from '@ivr/testing';
import { createConversation } from '@ivr/genesys-sim/testing';
import { formatFailed, listFailed } from '@ivr/ops';
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

  /** The decision document as the embedded store holds it (writeStatus, writeReason, writtenAt included). */
  const storedDecision = async (decisionId: string) => {
    const raw = await p.redis.hget(`${p.prefix}:ivr:store:docs`, decisionId);
    return raw ? (JSON.parse(raw) as Record<string, unknown>) : undefined;
  };

  /** Waits until the apply job of this webhook answer is failed, and returns it. */
  const failedApply = async (idempotencyKey: string) => {
    const jobId = jobIdFor('apply', await decisionIdOf(idempotencyKey));
    await waitFor(async () => (await p.receiver.queues.writes.getJob(jobId))?.isFailed(), 'apply job failed');
    // Read it again once failed: a job object fetched while it was still active has no failedReason.
    return (await p.receiver.queues.writes.getJob(jobId))!;
  };

  const attributesOf = async (cid: string, pid: string) => {
    const c = (await p.sim.control.conversation(cid)) as Conv;
    const attributes = c?.participants.find((x) => x.id === pid)?.attributes;
    // Every participant of a created call has attributes ({} until written): "nothing written yet" is undefined.
    return attributes && Object.keys(attributes).length > 0 ? attributes : undefined;
  };

  it("the tutorial's payload: the decision lands as participant attributes and in the store", async () => {
    await p.sim.control.setQueue('q-main', { idle: 6 });
    await createConversation(p.sim, 'flow-tut-1', { customerId: 'cust-1' });
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
    for (const cid of ['c-thr-a', 'c-thr-b', 'c-thr-c']) await createConversation(p.sim, cid, { customerId: 'p' });
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
    await createConversation(p.sim, 'c-wait', { customerId: 'p' });
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
    await createConversation(p.sim, 'c-409', { customerId: 'p' });
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
    await createConversation(p.sim, 'c-404', { customerId: 'p' });
    await p.sim.control.fault({ match: 'c-404', status: 404, rate: 1 });
    const res = await p.post({ conversationId: 'c-404', participantId: 'p', dtmf: '1' });
    const jobId = jobIdFor('apply', await decisionIdOf(res.body.idempotencyKey as string));
    const failed = await failedApply(res.body.idempotencyKey as string);
    expect(failed.id).toBe(jobId);
    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toMatch(/Genesys 404/);
    expect(failed.failedReason).toMatch(/contextId [0-9a-f-]{8,}/);
  });

  it('429 pauses the queue for Retry-After and does not use an attempt', async () => {
    await createConversation(p.sim, 'c-429', { customerId: 'p' });
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
    await createConversation(p.sim, 'c-open', { customerId: 'p' });
    await p.sim.control.setQueue('q-main', { idle: 0 });
    await p.sim.control.fault({ match: 'observations', status: 503, rate: 1 });
    const res = await p.post({ conversationId: 'c-open', participantId: 'p', dtmf: '4' }, { prefer: 'wait=5' });
    expect(res.body).toMatchObject({ status: 'decided', routing: 'route_to_queue', occupancySource: 'fail_open' });
    expect(String(res.body.reason)).toMatch(/observations unavailable.*503/);
  });

  it('a later key press on the same conversation supersedes the older decision; the newer is written last', async () => {
    await createConversation(p.sim, 'c-sup', { customerId: 'p' });
    await p.sim.control.setQueue('q-main', { idle: 9 });
    await p.sim.control.fault({ match: 'c-sup', status: 409, rate: 1, count: 2 }); // the first write keeps conflicting
    await p.post({ conversationId: 'c-sup', participantId: 'p', dtmf: '1' }, { 'idempotency-key': 'sup-old' });
    await new Promise((r) => setTimeout(r, 30));
    await p.sim.control.setQueue('q-main', { idle: 0 });
    // No Prefer: an answered decision is not written at all (WRITE_BACK=unanswered), this one must be.
    await p.post({ conversationId: 'c-sup', participantId: 'p', dtmf: '2' }, { 'idempotency-key': 'sup-new' });
    await waitFor(async () => (await attributesOf('c-sup', 'p'))?.finalRoutingDecision === 'route_to_vm', 'the newer decision written');
    await new Promise((r) => setTimeout(r, 600)); // give the older job every chance to (wrongly) write after it
    expect((await attributesOf('c-sup', 'p'))?.finalRoutingDecision).toBe('route_to_vm');
  });

  it("the tutorial's payload without a participant id lands on the call's real customer participant; the decision records it as written", async () => {
    await p.sim.control.setQueue('q-main', { idle: 6 });
    await createConversation(p.sim, 'flow-tut-2', { participants: [{ id: 'ivr-5c1d', purpose: 'ivr' }, { id: 'caller-9e4f', purpose: 'customer' }] });
    const res = await p.post({ flowInstanceId: 'flow-tut-2', participants: [{ input: { dtmf: '1' } }] });
    expect(res.status).toBe(202);
    const attrs = await waitFor(() => attributesOf('flow-tut-2', 'caller-9e4f'), 'attributes on the customer participant');
    expect(attrs).toEqual({ finalRoutingDecision: 'route_to_queue', queueOccupancyCheck: 'passed' });
    expect(await attributesOf('flow-tut-2', 'ivr-5c1d')).toBeUndefined();
    const decisionId = await decisionIdOf(res.body.idempotencyKey as string);
    const doc = await waitFor(async () => ((await storedDecision(decisionId))?.writeStatus ? storedDecision(decisionId) : undefined), 'the write outcome on the decision');
    expect(doc).toMatchObject({ decisionId, conversationId: 'flow-tut-2', writeStatus: 'written', writtenAt: expect.any(String) });
    expect(doc).not.toHaveProperty('participantId');
  });

  it.each([
    ['unknown conversation', 'c-ghost', undefined, /^conversation c-ghost is unknown to Genesys \(Genesys 404 not\.found: .*\); the flow must send its real conversation id/],
    ['no customer participant', 'c-nocust', [{ id: 'ivr-1', purpose: 'ivr' as const }, { id: 'acd-1', purpose: 'acd' as const }], /^conversation c-nocust has no customer participant \(participants' purposes: ivr, acd\)/],
  ])('%s: the write fails for good with the reason (Bull Board, pnpm ivr failed), the decision is stored with it, no retry', async (_, cid, participants, reason) => {
    if (participants) await createConversation(p.sim, cid, { participants });
    const res = await p.post({ conversationId: cid, dtmf: '2' });
    expect(res.status).toBe(202);
    const failed = await failedApply(res.body.idempotencyKey as string);
    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toMatch(reason);
    const listed = formatFailed(await listFailed([p.receiver.queues.writes]));
    expect(listed).toContain(failed.failedReason);
    const decisionId = await decisionIdOf(res.body.idempotencyKey as string);
    const doc = await waitFor(async () => ((await storedDecision(decisionId))?.writeStatus ? storedDecision(decisionId) : undefined), 'the failed outcome on the decision');
    expect(doc).toMatchObject({ decisionId, conversationId: cid, writeStatus: 'failed', writeReason: failed.failedReason });
    // No retry loop: still one attempt, and one conversation read, a while later.
    const reads = (await p.sim.control.calls('conversation')).filter((c) => c.path.endsWith(`/${cid}`));
    await new Promise((r) => setTimeout(r, 300));
    expect((await p.receiver.queues.writes.getJob(failed.id!))?.attemptsMade).toBe(1);
    expect((await p.sim.control.calls('conversation')).filter((c) => c.path.endsWith(`/${cid}`))).toHaveLength(reads.length);
    expect(reads).toHaveLength(1);
  });

  it('a made-up participant id is refused by the simulator as by Genesys (404), recorded as a failed write', async () => {
    await createConversation(p.sim, 'c-madeup');
    const res = await p.post({ conversationId: 'c-madeup', participantId: 'customer', dtmf: '1' });
    const failed = await failedApply(res.body.idempotencyKey as string);
    expect(failed.failedReason).toMatch(/Genesys 404 not\.found: Participant customer not found in conversation c-madeup/);
    expect(failed.attemptsMade).toBe(1);
  });

  it('0 idle agents, 0 voice waiting, 40 chat waiting: decided from the voice figures (MEDIA_TYPE voice)', async () => {
    await createConversation(p.sim, 'c-media');
    await p.sim.control.setQueue('q-main', { idle: 0, waiting: 0, media: { chat: { waiting: 40 } } });
    const res = await p.post({ conversationId: 'c-media', dtmf: '2' }, { prefer: 'wait=5' });
    expect(res.body).toMatchObject({ status: 'decided', routing: 'route_to_vm', availableAgents: 0, occupancySource: 'poll' });
    const reading = await p.workers.occupancy.get('q-main');
    expect(reading).toMatchObject({ source: 'poll', observation: { idle: 0, waiting: 0, mediaType: 'voice' } });
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
