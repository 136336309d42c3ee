/**
 * Chaos 3: Redis is unavailable for 10 s under continuous load. A private redis-server (AOF on, so a restart keeps
 * the data, as production needs) serves the receiver and two workers; it is shut down and restarted with the
 * same data directory. While it is down the receiver answers 503 with Retry-After and never a 2xx; the client
 * (like Genesys' data action retry) re-sends after Retry-After; after the restart the apps reconnect by
 * themselves and every key that ever got a 2xx is decided, applied and stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createEmbeddedStore } from '@ivr/reporting';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cleanup, paced, postWebhook, type RedisServer, waitFor } from '@ivr/testing';
import { appliedInSim, baseEnv, createCalls, decidedCount, failedCount, makeEvents, openQueues, privateRedis, type Queues, type Receiver, recordRow, secondsSince, type Sim, startReceiverProcess, startSimProcess, startWorkerProcesses, waitDrained } from './harness';

const RATE = 40;
const BEFORE_S = 5;
const OUTAGE_S = 10;
const AFTER_S = 8;
const EVENTS = RATE * (BEFORE_S + OUTAGE_S + AFTER_S);

interface Sent {
  key: string;
  status: number;
  retryAfter: string | null;
  start: number;
  end: number;
}

describe('chaos 3: Redis unavailable for 10 s under load', () => {
  const cleanup = new Cleanup();
  let sim: Sim;
  let receiver: Receiver;
  let queues: Queues;
  let rs: RedisServer;
  const prefix = 'chaos-redis';

  beforeAll(async () => {
    rs = await privateRedis('3-redis-outage', cleanup);
    sim = await startSimProcess('3-redis-outage', cleanup);
    await sim.control.setQueue('demo-queue', { idle: 8 });
    queues = openQueues(rs.url, prefix);
    cleanup.add('close queues', () => queues.close());
    const env = baseEnv({ redisUrl: rs.url, prefix, simUrl: sim.url });
    await startWorkerProcesses('3-redis-outage', env, 2, queues, cleanup);
    receiver = await startReceiverProcess('3-redis-outage', env, cleanup);
  });
  afterAll(() => cleanup.run());

  it('503 + Retry-After while Redis is down, never a 2xx for an unstored event; every 2xx-accepted key decided after the restart', async () => {
    const t0 = Date.now();
    const events = makeEvents('rdown', EVENTS);
    await createCalls(sim.url, events);
    const sent: Sent[] = [];
    let tDown = Infinity; // Redis process gone
    let tUpStart = Infinity; // restart begins
    let tUp = Infinity;
    const outage = (async () => {
      await sleep(BEFORE_S * 1000);
      await rs.shutdown();
      tDown = Date.now();
      await sleep(OUTAGE_S * 1000);
      tUpStart = Date.now();
      await rs.start();
      tUp = Date.now();
    })();
    const deadline = t0 + (BEFORE_S + OUTAGE_S + AFTER_S + 40) * 1000;
    await paced(events, RATE, 100, async (e) => {
      // A well-behaved sender: on 503 wait Retry-After and send the same event again (same key).
      while (Date.now() < deadline) {
        const start = Date.now();
        const a = await postWebhook(receiver.url, e.body, e.key, 5000);
        sent.push({ key: e.key, status: a.status, retryAfter: a.retryAfter, start, end: Date.now() });
        if (a.status === 202 || a.status === 200) return;
        await sleep(a.status === 503 ? Number(a.retryAfter ?? 1) * 1000 : 500);
      }
    });
    await outage;

    const ok = new Set(sent.filter((s) => s.status === 202 || s.status === 200).map((s) => s.key));
    const duringOutage = sent.filter((s) => s.start >= tDown && s.end <= tUpStart);
    const twoXxDuringOutage = duringOutage.filter((s) => s.status >= 200 && s.status < 300);
    const bad = sent.filter((s) => ![200, 202, 503].includes(s.status));
    const noRetryAfter = sent.filter((s) => s.status === 503 && !s.retryAfter);
    const n503 = sent.filter((s) => s.status === 503).length;

    const admin = new Redis(rs.url, { maxRetriesPerRequest: 3 });
    cleanup.add('close admin', () => admin.disconnect());
    await waitFor(async () => (await decidedCount(admin, prefix, ok)) === ok.size, 'every 2xx-accepted key decided after the restart', 60000, 500).catch(() => undefined);
    await waitDrained(queues, 'queues drained after the restart', 60000).catch(() => undefined);
    const decided = await decidedCount(admin, prefix, ok);
    const applied = await appliedInSim(sim.url, events.filter((e) => ok.has(e.key)).map((e) => e.cid));
    const stored = await createEmbeddedStore(admin, prefix).count();
    const failed = await failedCount(queues);
    const firstOkAfter = Math.min(...sent.filter((s) => s.start >= tUp && (s.status === 202 || s.status === 200)).map((s) => s.end));

    const pass =
      duringOutage.length > 0 && twoXxDuringOutage.length === 0 && bad.length === 0 && noRetryAfter.length === 0 && ok.size === EVENTS && decided === ok.size && applied.applied === ok.size && stored === ok.size;
    recordRow({
      scenario: '3 Redis down 10 s',
      load: `${EVENTS} events at ${RATE}/s, 2 workers, sender retries on 503`,
      fault: `redis-server SHUTDOWN ${((tUpStart - tDown) / 1000).toFixed(1)} s, restart with AOF`,
      result: `2xx during outage ${twoXxDuringOutage.length}/${duringOutage.length}; lost ${ok.size - decided}`,
      figures: `503s ${n503} (all with Retry-After: ${noRetryAfter.length === 0}); other statuses ${bad.length}; 2xx keys ${ok.size}/${EVENTS}; decided ${decided}; applied ${applied.applied}; stored ${stored}; first 2xx ${((firstOkAfter - tUp) / 1000).toFixed(1)} s after restart; failed ${JSON.stringify(failed)}`,
      seconds: secondsSince(t0),
      pass,
    });

    expect(duringOutage.length, 'requests answered while Redis was down').toBeGreaterThan(0);
    expect(twoXxDuringOutage, 'a 2xx while Redis was down would acknowledge an event that was not stored').toEqual([]);
    expect(bad.slice(0, 5), 'answers other than 202/200/503').toEqual([]);
    expect(noRetryAfter.length, '503 without Retry-After').toBe(0);
    expect(ok.size, 'every event eventually accepted (sender retried after Retry-After)').toBe(EVENTS);
    expect(decided, 'every 2xx-accepted key decided').toBe(ok.size);
    expect(applied.missing.slice(0, 5), 'accepted events not applied in the simulator').toEqual([]);
    expect(stored, 'documents in the store').toBe(ok.size);
  });
});
