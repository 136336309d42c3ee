/**
 * The shared Genesys request budget against real Redis (several connections = several processes' view) and, through
 * the real SDK client, against the simulator: what it lets through, what it refuses, and the 429 pause.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix, waitFor } from '@ivr/testing';
import { startTestSim, type TestSim } from '@ivr/genesys-sim/testing';
import { budgetKeys, budgetUsage, createRedisBudget, priorityOf, type GenesysBudget } from './budget';
import { createGenesysClient } from './client';
import { GenesysApiError } from './errors';

const conns: Redis[] = [];
const prefixes: string[] = [];
function connection(): Redis {
  const r = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 3 });
  conns.push(r);
  return r;
}
function prefix(label: string): string {
  const p = uniquePrefix(label);
  prefixes.push(p);
  return p;
}

let sim: TestSim;
beforeAll(async () => {
  sim = await startTestSim();
});
afterAll(async () => {
  const r = connection();
  for (const p of prefixes) await deletePrefix(r, p);
  for (const c of conns) c.disconnect();
  await sim.close();
});

async function takeMany(budgets: GenesysBudget[], endpoint: string, n: number) {
  return Promise.all(Array.from({ length: n }, (_, i) => budgets[i % budgets.length]!.take(endpoint)));
}

describe('Redis budget', () => {
  it('lets exactly `limit` requests through per window, across three connections taking at once', async () => {
    const p = prefix('budget-limit');
    const budgets = [0, 1, 2].map(() => createRedisBudget({ redis: connection(), prefix: p, limit: 10, windowMs: 5000 }));
    const grants = await takeMany(budgets, 'observations', 40);
    expect(grants.filter((g) => g.granted)).toHaveLength(10);
    for (const g of grants.filter((x) => !x.granted)) {
      expect(g).toMatchObject({ granted: false, reason: 'exhausted' });
      if (!g.granted) expect(g.retryInMs).toBeGreaterThan(0);
      if (!g.granted) expect(g.retryInMs).toBeLessThanOrEqual(5001);
    }
    const granted = budgets.reduce((n, b) => n + (b.stats().granted.observations?.live ?? 0), 0);
    const refused = budgets.reduce((n, b) => n + (b.stats().exhausted.observations ?? 0), 0);
    expect({ granted, refused }).toEqual({ granted: 10, refused: 30 });
  });

  it('a slot frees when the oldest request leaves the window, not before', async () => {
    const p = prefix('budget-slide');
    const budget = createRedisBudget({ redis: connection(), prefix: p, limit: 2, windowMs: 1000 });
    expect((await takeMany([budget], 'observations', 2)).every((g) => g.granted)).toBe(true);
    const refused = await budget.take('observations');
    expect(refused.granted).toBe(false);
    const started = Date.now();
    await waitFor(async () => (await budget.take('observations')).granted, 'a slot to free', 5000, 20);
    // The window is the budget's clock: the slot cannot come back much earlier than announced.
    expect(Date.now() - started).toBeGreaterThanOrEqual((refused.granted ? 0 : refused.retryInMs) - 100);
  });

  it('a request counts from its answer once it has one (a slow request cannot let two windows\' worth through)', async () => {
    const p = prefix('budget-done');
    const budget = createRedisBudget({ redis: connection(), prefix: p, limit: 1, windowMs: 1000 });
    const grant = await budget.take('attributes');
    expect(grant.granted).toBe(true);
    await new Promise((r) => setTimeout(r, 500)); // the request is in flight for 500 ms (the scenario, not a wait for a condition)
    if (grant.granted) await grant.done();
    const refused = await budget.take('observations');
    // Counted from the answer: the slot frees ~1000 ms from now, not ~500 ms (as counted from the send).
    expect(refused.granted ? 0 : refused.retryInMs).toBeGreaterThan(800);
  });

  it('writes leave the reserve to occupancy reads', async () => {
    const p = prefix('budget-prio');
    const budget = createRedisBudget({ redis: connection(), prefix: p, limit: 10, windowMs: 5000, reservePct: 30 });
    const writes = await takeMany([budget], 'attributes', 10);
    expect(writes.filter((g) => g.granted)).toHaveLength(7);
    const lookups = await budget.take('conversation');
    expect(lookups.granted).toBe(false); // a conversation read serves a write: same priority
    const reads = await takeMany([budget], 'observations', 5);
    expect(reads.filter((g) => g.granted)).toHaveLength(3);
    expect(budget.stats().granted).toEqual({ attributes: { write: 7 }, observations: { live: 3 } });
    expect(priorityOf('token')).toBe('live');
    expect(priorityOf('some-new-endpoint')).toBe('write');
  });

  it('a 429 pause refuses everything for its duration and is never shortened', async () => {
    const p = prefix('budget-pause');
    const a = createRedisBudget({ redis: connection(), prefix: p, limit: 100, windowMs: 5000 });
    const b = createRedisBudget({ redis: connection(), prefix: p, limit: 100, windowMs: 5000 });
    await a.pause(3000);
    await a.pause(100);
    const g = await b.take('observations');
    expect(g).toMatchObject({ granted: false, reason: 'paused' });
    if (!g.granted) expect(g.retryInMs).toBeGreaterThan(2000);
  });

  it('budgetUsage reads what every process took in the window and the 429 pause (the operator console)', async () => {
    const p = prefix('budget-usage');
    const reader = connection();
    expect(await budgetUsage(reader, p, 10, 5000)).toEqual({ used: 0, limit: 10, windowMs: 5000, pausedMs: 0 });
    const budgets = [0, 1].map(() => createRedisBudget({ redis: connection(), prefix: p, limit: 10, windowMs: 5000 }));
    await takeMany(budgets, 'observations', 7);
    expect(await budgetUsage(reader, p, 10, 5000)).toMatchObject({ used: 7, pausedMs: 0 });
    await budgets[0]!.pause(3000);
    const paused = await budgetUsage(reader, p, 10, 5000);
    expect(paused.pausedMs).toBeGreaterThan(2000);
    expect(paused.pausedMs).toBeLessThanOrEqual(3000);
  });

  it('keys share one hash tag (Redis Cluster): the prefix tag when there is one', () => {
    expect(budgetKeys('{ivr}')).toEqual({ window: '{ivr}:ivr:genesys-budget:window', pause: '{ivr}:ivr:genesys-budget:pause' });
    expect(budgetKeys('ivr')).toEqual({ window: 'ivr:ivr:{genesys-budget}:window', pause: 'ivr:ivr:{genesys-budget}:pause' });
  });
});

describe('client request path', () => {
  it('login and API calls are counted; a refused call never reaches Genesys', async () => {
    await sim.control.reset();
    await sim.control.setQueue('q-budget', { idle: 3 });
    const budget = createRedisBudget({ redis: connection(), prefix: prefix('budget-client'), limit: 3, windowMs: 60_000 });
    const client = createGenesysClient({ environment: 'mypurecloud.com', apiBase: sim.url, clientId: sim.clientId, clientSecret: sim.clientSecret, timeoutMs: 2000, budget });
    await client.login();
    await client.queryObservations(['q-budget']);
    await client.queryObservations(['q-budget']);
    const err = await client.queryObservations(['q-budget']).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GenesysApiError);
    expect(err).toMatchObject({ kind: 'budget_exhausted', endpoint: 'observations' });
    expect((err as GenesysApiError).message).toContain('GENESYS_RATE_PER_MIN');
    expect((await sim.control.calls('observations')).length).toBe(2);
    expect(client.stats().budget).toEqual({ granted: { token: { live: 1 }, observations: { live: 2 } }, exhausted: { observations: 1 } });
  });

  it('a 429 from Genesys pauses every client on the budget for Retry-After', async () => {
    await sim.control.reset();
    await sim.control.setQueue('q-budget', { idle: 3 });
    const p = prefix('budget-429');
    const make = () =>
      createGenesysClient({
        environment: 'mypurecloud.com', apiBase: sim.url, clientId: sim.clientId, clientSecret: sim.clientSecret, timeoutMs: 2000,
        budget: createRedisBudget({ redis: connection(), prefix: p, limit: 100, windowMs: 60_000 }),
      });
    const first = make();
    const second = make();
    await Promise.all([first.login(), second.login()]);
    await sim.control.fault({ match: 'attributes', status: 429, count: 1, retryAfterS: 2 });
    const rateLimited = await first.patchParticipantAttributes('c-429', 'p-1', { a: 'b' }).catch((e: GenesysApiError) => e);
    expect(rateLimited).toMatchObject({ kind: 'rate_limited' });
    const paused = await second.queryObservations(['q-budget']).catch((e: GenesysApiError) => e);
    expect(paused).toMatchObject({ kind: 'budget_exhausted' });
    expect((paused as GenesysApiError).message).toContain('429 Retry-After');
    expect((await sim.control.calls('observations')).length).toBe(0);
  });
});
