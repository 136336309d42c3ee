import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger, startApp, waitFor, type NodeProcess } from '@ivr/testing';
import { APPS } from '../apps';
import { createConversation } from '@ivr/genesys-sim/testing';
import { keyspace } from '@ivr/queue-contract';
import { startOccupancyPushRole } from '@ivr/worker';
import { startPipeline, type Pipeline } from './pipeline-harness';

/**
 * OCCUPANCY_SOURCE=notifications (issue 19) end to end: the simulator, real Redis, the real SDK, the receiver and
 * workers; one worker holds the notification channel and the decisions read its pushed figures.
 */
const PUSH_ENV = {
  TARGET_QUEUE_ID: 'q-push',
  OCCUPANCY_THRESHOLD: '3',
  OCCUPANCY_SOURCE: 'notifications',
  OCCUPANCY_MAX_AGE_MS: '3000',
  OCCUPANCY_PUSH_PING_MS: '200',
  OCCUPANCY_PUSH_LEASE_MS: '1000',
};

type Decided = { status: string; routing: string; availableAgents: number; occupancySource: string };

describe('occupancy pushed by Genesys notifications', () => {
  let p: Pipeline;
  let n = 0;

  beforeAll(async () => {
    p = await startPipeline(PUSH_ENV);
    await p.sim.control.setQueue('q-push', { idle: 4 });
    await waitForPush();
  });
  afterAll(() => p?.close());

  const observationQueries = async () => (await p.sim.control.stats()).countByEndpoint.observations ?? 0;

  /** One call in the IVR: the conversation exists in Genesys, then the flow asks for the decision and waits for it. */
  async function decide(): Promise<Decided> {
    const cid = `push-${++n}`;
    await createConversation(p.sim, cid);
    const res = await p.post({ conversationId: cid, dtmf: '1' }, { prefer: 'wait=5' });
    return res.body as unknown as Decided;
  }

  /** `total` calls, `concurrency` at a time (steady load from several callers). */
  async function load(total: number, concurrency = 8): Promise<Decided[]> {
    const out: Decided[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) {
          next++;
          out.push(await decide());
        }
      }),
    );
    return out;
  }

  /** The holder is connected and its figures are in the cache (a decision reads them as `notification`). */
  async function waitForPush(): Promise<void> {
    await waitFor(async () => (await decide()).occupancySource === 'notification', 'a decision from pushed figures', 15000, 50);
  }

  it('steady load: every decision from pushed figures, the simulator sees 0 observation queries', async () => {
    const before = await observationQueries();
    const decided = await load(60);
    expect(decided.every((d) => d.status === 'decided' && d.occupancySource === 'notification')).toBe(true);
    expect(decided.every((d) => d.availableAgents === 4 && d.routing === 'route_to_queue')).toBe(true);
    expect(await observationQueries()).toBe(before);
    expect(p.workers.push?.status()).toMatchObject({ holder: true, connected: true });
  });

  it('a change of idle agents in Genesys reaches the next decision within 500 ms (no observation query)', async () => {
    const before = await observationQueries();
    const results: number[] = [];
    for (const idle of [1, 5, 0]) {
      const changed = Date.now();
      await p.sim.control.setQueue('q-push', { idle });
      const d = await waitFor(async () => {
        const r = await decide();
        return r.availableAgents === idle ? r : undefined;
      }, `a decision with ${idle} idle agents`, 5000, 0);
      results.push(Date.now() - changed);
      expect(d.occupancySource).toBe('notification');
    }
    console.log(`idle agents changed in the simulator -> first decision with the new figure after ${results.join(', ')} ms`);
    expect(Math.max(...results)).toBeLessThanOrEqual(500);
    expect(await observationQueries()).toBe(before);
    await p.sim.control.setQueue('q-push', { idle: 4 });
  });

  /**
   * Under load, `fault` breaks the push path; every call is still decided, and once the holder is back (a
   * `notification` decision) the simulator sees no further observation query: polling only while push was down.
   */
  async function underLoad(fault: () => Promise<void>, heal: () => Promise<void> = async () => undefined) {
    let stop = false;
    const decided: Decided[] = [];
    const running = (async () => {
      while (!stop) decided.push(...(await load(8, 4)));
    })();
    await waitFor(() => decided.length >= 16, 'load running');
    await fault();
    await waitFor(() => decided.slice(-8).some((d) => d.occupancySource !== 'notification') || undefined, 'a decision without push', 10000, 20);
    await heal();
    await waitFor(() => decided.slice(-4).every((d) => d.occupancySource === 'notification') || undefined, 'push back', 15000, 20);
    const afterRecovery = await observationQueries();
    const mark = decided.length;
    await waitFor(() => decided.length >= mark + 24, 'more load after recovery', 15000);
    stop = true;
    await running;
    expect(decided.every((d) => d.status === 'decided')).toBe(true);
    const sources = new Set(decided.map((d) => d.occupancySource));
    expect([...sources].every((s) => ['notification', 'poll', 'cache'].includes(s))).toBe(true);
    expect(sources.has('poll')).toBe(true); // polled while push was down
    expect(decided.slice(mark).every((d) => d.occupancySource === 'notification')).toBe(true);
    expect(await observationQueries()).toBe(afterRecovery);
    return decided;
  }

  const control = (method: string, path: string, body?: unknown) =>
    fetch(`${p.sim.url}/__sim${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

  it('the socket dropped under load: polling while it is down, then pushed again on the same channel (resubscribed)', async () => {
    const channelsBefore = p.workers.push!.status().channels;
    const subscriptionsBefore = p.workers.push!.status().subscriptions;
    // Drop repeatedly until a decision lands in the gap (the holder reconnects within milliseconds).
    await underLoad(async () => {
      for (let i = 0; i < 20; i++) await control('POST', '/notifications/drop');
    });
    expect(p.workers.push!.status().channels).toBe(channelsBefore);
    expect(p.workers.push!.status().subscriptions).toBeGreaterThan(subscriptionsBefore);
  });

  it('the socket silent under load (open, nothing sent): detected after two pings, polling until it speaks again', async () => {
    await underLoad(
      () => control('PUT', '/notifications/silence', { silent: true }).then(() => undefined),
      () => control('PUT', '/notifications/silence', { silent: false }).then(() => undefined),
    );
  });

  it('the channel expired under load: a new channel is opened and subscribed', async () => {
    const channelsBefore = p.workers.push!.status().channels;
    await underLoad(async () => {
      await control('POST', '/notifications/expire');
    });
    expect(p.workers.push!.status().channels).toBeGreaterThan(channelsBefore);
  });

  it('renews the channel before it expires (resubscribes) and keeps it', async () => {
    await control('PUT', '/config', { channelTtlS: 1.5 });
    await control('POST', '/notifications/expire'); // the next channel gets the short life
    await waitForPush();
    const { channelId, subscriptions } = p.workers.push!.status();
    await waitFor(() => p.workers.push!.status().subscriptions >= subscriptions + 3 || undefined, 'three renewals', 10000);
    expect(p.workers.push!.status()).toMatchObject({ channelId, connected: true });
    expect((await decide()).occupancySource).toBe('notification');
    await control('PUT', '/config', { channelTtlS: 86400 });
  });
});

describe('the channel holder killed (real processes)', () => {
  let p: Pipeline;
  let holder: NodeProcess | undefined;
  afterAll(async () => {
    await holder?.stop(2000);
    await p?.close();
  });

  it('another worker takes the channel over within seconds; every call is still decided', async () => {
    // The in-process pipeline stays on polling until its push candidate is started, so the process holds first.
    p = await startPipeline({ ...PUSH_ENV, OCCUPANCY_SOURCE: 'polling', TARGET_QUEUE_ID: 'q-kill', LOCK_DURATION_MS: '2000', STALLED_INTERVAL_MS: '1000' });
    await p.sim.control.setQueue('q-kill', { idle: 4 });
    holder = startApp(APPS.worker, {
      ...PUSH_ENV,
      TARGET_QUEUE_ID: 'q-kill',
      REDIS_URL: p.config.REDIS_URL,
      QUEUE_PREFIX: p.prefix,
      GENESYS_API_BASE: p.sim.url,
      GENESYS_RATE_PER_MIN: '60000',
      WORKER_ROLES: 'decide',
      WORKER_METRICS_PORT: '0',
      LOCK_DURATION_MS: '2000',
      STALLED_INTERVAL_MS: '1000',
    });
    const leader = `${p.prefix}:ivr:occpush:leader`;
    await waitFor(async () => (await p.redis.get(leader)) ?? undefined, 'the worker process holds the channel', 20000);
    const candidate = startOccupancyPushRole(
      { ...p.config, OCCUPANCY_SOURCE: 'notifications' },
      silentLogger as never,
      p.workers.genesys,
      p.redis,
      keyspace(p.prefix),
      ['q-kill'],
    )!;
    try {
      let i = 0;
      const call = async () => {
        const cid = `kill-${++i}`;
        await createConversation(p.sim, cid);
        return (await p.post({ conversationId: cid, dtmf: '1' }, { prefer: 'wait=10' })).body as unknown as Decided;
      };
      await waitFor(async () => (await call()).occupancySource === 'notification', 'decisions from the process holder', 15000, 50);
      expect(candidate.status().holder).toBe(false);
      holder.proc.kill('SIGKILL');
      const killedAt = Date.now();
      await holder.exited;
      const decided: Decided[] = [];
      await waitFor(async () => {
        decided.push(await call());
        return candidate.status().holder && candidate.status().connected ? true : undefined;
      }, 'the candidate takes over', 15000, 20);
      const takeoverMs = Date.now() - killedAt;
      await waitFor(async () => {
        const d = await call();
        decided.push(d);
        return d.occupancySource === 'notification' || undefined;
      }, 'pushed figures again', 10000, 20);
      console.log(`channel holder killed -> taken over after ${takeoverMs} ms (lease ${PUSH_ENV.OCCUPANCY_PUSH_LEASE_MS} ms); ${decided.length} calls decided meanwhile, sources ${[...new Set(decided.map((d) => d.occupancySource))].join(', ')}`);
      expect(decided.every((d) => d.status === 'decided')).toBe(true);
      expect(takeoverMs).toBeLessThan(5000);
    } finally {
      await candidate.stop();
    }
  });
});
