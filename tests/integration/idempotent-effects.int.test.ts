/**
 * Exactly-once effect per idempotency key on top of at-least-once jobs (issue 6 item 2), against real Redis,
 * real BullMQ workers and the simulator through the real SDK:
 * - the same decide job run twice (BullMQ re-run of a completed job, or two jobs for one key) → one decision,
 *   one store document, one attribute write;
 * - a later key press on the same conversation supersedes an older decision whose write is still retrying:
 *   the older write is dropped (completes as `superseded`) and never lands after the newer one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@ivr/config';
import { decisionIdFor, jobIdFor } from '@ivr/core';
import { startReceiver, type RunningReceiver } from '@ivr/receiver';
import { genesysFromConfig, startWorkers, type RunningWorkers } from '@ivr/worker';
import { silentLogger, testRedis, waitFor } from '@ivr/testing';
import { createConversation, startTestSim, type TestSim } from '@ivr/genesys-sim/testing';

describe('idempotent effects', () => {
  const t = testRedis('idemfx');
  let sim: TestSim;
  let workers: RunningWorkers;
  let receiver: RunningReceiver;

  beforeAll(async () => {
    sim = await startTestSim();
    const config = loadConfig({
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      QUEUE_PREFIX: t.prefix,
      GENESYS_API_BASE: sim.url,
      RECEIVER_PORT: '0',
      RECEIVER_HOST: '127.0.0.1',
      REPORTS_DIR: mkdtempSync(join(tmpdir(), 'ivr-idemfx-')),
      OCCUPANCY_CACHE_MS: '0',
      OCCUPANCY_SOURCE: 'polling',
      APPLY_ATTEMPTS: '10',
      APPLY_BACKOFF_MS: '300',
      REPORT_LINGER_MS: '20',
      GENESYS_RATE_PER_MIN: '60000',
      WRITE_BACK: 'always', // these calls wait for their decision (Prefer) and the test counts their writes
      LOG_LEVEL: 'silent',
    });
    const logger = silentLogger as unknown as Parameters<typeof startWorkers>[1];
    const genesys = genesysFromConfig(config, logger);
    await genesys.login();
    workers = await startWorkers(config, logger, genesys);
    receiver = await startReceiver(config, logger);
  });
  afterAll(async () => {
    await receiver?.close();
    await workers?.close();
    await sim?.close();
    await t.cleanup();
  });

  const post = async (body: unknown, key: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${receiver.url}/webhook/genesys-dtmf`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key, ...headers },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  /** Successful attribute writes the simulator received for one conversation. */
  const writesFor = async (cid: string) => (await sim.control.calls('attributes')).filter((c) => c.path.includes(`/${cid}/`) && c.status < 300);
  const attributesOf = async (cid: string) => (await sim.control.conversation(cid))?.participants[0]?.attributes;
  const storedDoc = (decisionId: string) => t.redis.hget(`${t.prefix}:ivr:store:docs`, decisionId);

  it('the same decide job run twice: one decision, one store document, one attribute write', async () => {
    await sim.control.setQueue('demo-queue', { idle: 7 });
    const cid = 'idem-conv-1';
    const key = 'idem-key-1';
    await createConversation(sim, cid, { customerId: 'cust-1' });
    const first = await post({ conversationId: cid, participantId: 'cust-1', dtmf: '1' }, key, { prefer: 'wait=5' });
    expect(first.status).toBe(200);
    const decisionId = decisionIdFor(key);
    expect(first.body).toMatchObject({ status: 'decided', decisionId });
    await waitFor(async () => (await writesFor(cid)).length === 1 && (await storedDoc(decisionId)) !== null, 'first write and document');

    // Run the completed decide job again (what a stalled-job recovery or a manual retry from Bull Board does).
    const job = await receiver.queues.events.getJob(String(first.body.jobId));
    expect(job, 'the decide job').toBeDefined();
    const firstFinish = job!.finishedOn;
    await job!.retry('completed');
    const rerun = await waitFor(async () => {
      const j = await receiver.queues.events.getJob(job!.id!);
      return j && j.finishedOn && j.finishedOn !== firstFinish && (await j.isCompleted()) ? j : undefined;
    }, 'the re-run of the decide job');
    expect(rerun.returnvalue).toMatchObject({ status: 'decided', decisionId, replayed: true });

    // And the same event under another job id at the same time (a re-delivery that reached the queue twice).
    await Promise.all(['dup-a', 'dup-b'].map((suffix) => receiver.queues.events.add('dtmf', rerun.data, { jobId: `${job!.id}-${suffix}` })));
    await waitFor(async () => {
      const js = await Promise.all(['dup-a', 'dup-b'].map((s) => receiver.queues.events.getJob(`${job!.id}-${s}`)));
      return (await Promise.all(js.map((j) => j?.isCompleted()))).every(Boolean);
    }, 'the duplicate decide jobs');
    await new Promise((r) => setTimeout(r, 500)); // room for any (wrong) second write or document to land

    expect(await writesFor(cid), 'attribute writes for the conversation').toHaveLength(1);
    expect(await attributesOf(cid)).toEqual({ finalRoutingDecision: 'route_to_queue', queueOccupancyCheck: 'passed' });
    expect(await t.redis.hlen(`${t.prefix}:ivr:store:docs`), 'store documents').toBe(1);
    expect(JSON.parse((await storedDoc(decisionId))!)).toMatchObject({ decisionId, idempotencyKey: key, routing_decision: 'route_to_queue' });
    expect(await workers.store.count()).toBe(1);
    const writes = await receiver.queues.writes.getJobCounts();
    expect(Object.values(writes).reduce((a, b) => a + b, 0), 'genesys-writes jobs').toBe(1);
  });

  it('a later press supersedes an older decision that is still retrying; the older never writes after the newer', async () => {
    const cid = 'idem-conv-2';
    const pid = 'cust-2';
    await createConversation(sim, cid, { customerId: pid });
    // Every write to this conversation is refused (409) until the newer decision exists.
    await sim.control.fault({ match: `/${cid}/participants/${pid}/attributes`, status: 409, rate: 1 });
    await sim.control.setQueue('demo-queue', { idle: 9 });
    const older = await post({ conversationId: cid, participantId: pid, dtmf: '1' }, 'idem-old', { prefer: 'wait=5' });
    expect(older.body).toMatchObject({ status: 'decided', routing: 'route_to_queue' });
    const olderApplyId = jobIdFor('apply', decisionIdFor('idem-old'));
    await waitFor(async () => ((await receiver.queues.writes.getJob(olderApplyId))?.attemptsMade ?? 0) >= 2, 'the older write failing and retrying', 10000, 20);
    expect(await receiver.queues.writes.getJobState(olderApplyId)).toMatch(/delayed|waiting|active/);

    await sim.control.setQueue('demo-queue', { idle: 0 });
    const newer = await post({ conversationId: cid, participantId: pid, dtmf: '1' }, 'idem-new', { prefer: 'wait=5' });
    expect(newer.body).toMatchObject({ status: 'decided', routing: 'route_to_vm' });
    await sim.control.clearFaults();

    const newerApplyId = jobIdFor('apply', decisionIdFor('idem-new'));
    const done = await waitFor(async () => {
      const [o, n] = await Promise.all([receiver.queues.writes.getJob(olderApplyId), receiver.queues.writes.getJob(newerApplyId)]);
      return o?.finishedOn && n?.finishedOn ? { o, n } : undefined;
    }, 'both writes finished', 15000, 20);
    expect(done.o.returnvalue, 'the older write is dropped').toMatchObject({ status: 'superseded', sequence: 1, currentSequence: 2 });
    expect(done.n.returnvalue).toMatchObject({ status: 'applied', sequence: 2 });
    const landed = await writesFor(cid);
    expect(landed, 'successful writes: only the newer decision').toHaveLength(1);
    expect(await attributesOf(cid)).toEqual({ finalRoutingDecision: 'route_to_vm', queueOccupancyCheck: 'passed' });
    const refused = (await sim.control.calls('attributes')).filter((c) => c.path.includes(`/${cid}/`) && c.status === 409);
    expect(refused.length, 'the older write was refused while it was retrying').toBeGreaterThanOrEqual(2);
  });
});
