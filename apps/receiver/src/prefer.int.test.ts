/**
 * `Prefer: wait` and WRITE_BACK=unanswered at the receiver, over a real HTTP server (@hono/node-server): the event
 * carries its answer deadline, and a decision is marked answered only once Node delivered the response
 * ('finish'), never for a client that hung up first, never from a client-chosen string.
 */
import { serve, type ServerType } from '@hono/node-server';
import { afterEach, describe, expect, it } from 'vitest';
import { decisionIdFor } from '@ivr/core';
import type { IvrEventJob } from '@ivr/queue-contract';
import { silentLogger } from '@ivr/testing';
import { createApp, type DecidedAnswer, type ReceiverDeps } from './app';
import { preferWaitMs } from './prefer';

const servers: ServerType[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

interface Harness {
  url: string;
  /** Open connections on the server side. */
  connections(): Promise<number>;
  jobs: IvrEventJob[];
  marked: string[];
  /** Resolve the pending wait of `key` with a decision. */
  decide(key: string): void;
  waiting: Set<string>;
}

async function start(over: Partial<ReceiverDeps> = {}): Promise<Harness> {
  const jobs: IvrEventJob[] = [];
  const marked: string[] = [];
  const pending = new Map<string, (a: DecidedAnswer) => void>();
  const waiting = new Set<string>();
  const app = createApp({
    ingest: async (job) => {
      jobs.push(job);
      return { kind: 'accepted', jobId: `job-${job.idempotencyKey}` };
    },
    waitForDecision: (key, ms) =>
      new Promise((resolve) => {
        waiting.add(key);
        pending.set(key, resolve);
        setTimeout(() => resolve(undefined), ms);
      }),
    markAnswered: async (decisionId) => void marked.push(decisionId),
    ready: async () => true,
    logger: silentLogger,
    now: () => 1_000_000,
    ...over,
  });
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  servers.push(server);
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}/webhook/genesys-dtmf`,
    connections: () => new Promise((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n)))),
    jobs,
    marked,
    waiting,
    decide: (key) => pending.get(key)?.({ status: 'decided', routing: 'route_to_queue', availableAgents: 6 }),
  };
}

const body = (cid: string) => JSON.stringify({ conversationId: cid, participantId: 'p-1', dtmf: '1' });
const until = async (check: () => boolean | Promise<boolean>, what: string) => {
  for (const end = Date.now() + 5000; !(await check()); ) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('Prefer: wait and the answered mark', () => {
  it('the event carries its answer deadline only when the caller waits', async () => {
    const h = await start();
    await fetch(h.url, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'k-nowait' }, body: body('c-1') });
    const waited = fetch(h.url, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'k-wait', prefer: 'wait=3' }, body: body('c-2') });
    await until(() => h.waiting.has('k-wait'), 'the wait to begin');
    h.decide('k-wait');
    expect((await waited).status).toBe(200);
    expect(h.jobs.map((j) => [j.idempotencyKey, j.answerBy])).toEqual([
      ['k-nowait', undefined],
      ['k-wait', 1_000_000 + 3000],
    ]);
  });

  it('a delivered 200 decided marks the decision id derived from the key', async () => {
    const h = await start();
    const res = fetch(h.url, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'k-delivered', prefer: 'wait=3' }, body: body('c-3') });
    await until(() => h.waiting.has('k-delivered'), 'the wait to begin');
    h.decide('k-delivered');
    expect(await (await res).json()).toMatchObject({ status: 'decided' });
    await until(() => h.marked.length === 1, 'the mark');
    expect(h.marked).toEqual([decisionIdFor('k-delivered')]);
  });

  it('a client that hung up before the decision leaves no mark; a 202 at the deadline leaves none either', async () => {
    const h = await start();
    const abort = new AbortController();
    const gone = fetch(h.url, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'k-gone', prefer: 'wait=3' }, body: body('c-4'), signal: abort.signal }).catch((e: Error) => e);
    await until(() => h.waiting.has('k-gone'), 'the wait to begin');
    abort.abort();
    expect(await gone).toBeInstanceOf(Error);
    // The server has seen the hang-up (a decision racing the hang-up itself is handed to the OS: 'finish', marked).
    await until(async () => (await h.connections()) === 0, 'the server to see the client go');
    h.decide('k-gone'); // the answer is written to a socket that is gone: no 'finish'
    const timedOut = await fetch(h.url, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'k-late', prefer: 'wait=0.2' }, body: body('c-5') });
    expect(timedOut.status).toBe(202);
    // A third, delivered answer proves marks are being made at all in this server, after the other two.
    const ok = fetch(h.url, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'k-after', prefer: 'wait=3' }, body: body('c-6') });
    await until(() => h.waiting.has('k-after'), 'the wait to begin');
    h.decide('k-after');
    await (await ok).json();
    await until(() => h.marked.length >= 1, 'the mark of the delivered answer');
    expect(h.marked).toEqual([decisionIdFor('k-after')]);
  });

  it('preferWaitMs reads RFC 7240 wait and caps it', () => {
    expect(preferWaitMs('wait=3')).toBe(3000);
    expect(preferWaitMs('respond-async, wait=20')).toBe(10_000);
    expect(preferWaitMs(undefined)).toBe(0);
  });
});
