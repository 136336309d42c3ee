import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { loadConfig } from '@ivr/config';
import { startRedisServer, TEST_REDIS_URL, uniquePrefix, waitFor, type RedisServer } from '@ivr/testing';
import { startReceiver, type RunningReceiver } from './server';

/** A pino logger whose JSON lines are kept for assertions. */
function captureLogger() {
  const lines: Array<{ level: number; msg: string; [k: string]: unknown }> = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

function rawSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

const webhook = (cid: string) => JSON.stringify({ conversationId: cid, participantId: 'p', dtmf: '1' });
const post = (url: string, body: string, key: string) =>
  fetch(`${url}/webhook/genesys-dtmf`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key }, body, signal: AbortSignal.timeout(10000) });

describe('receiver timeouts and client aborts (issue 13 items 5 and 9)', () => {
  let rx: RunningReceiver | undefined;
  afterEach(async () => {
    await rx?.close();
    rx = undefined;
  });

  it('a body trickled one byte at a time is cut at RECEIVER_REQUEST_TIMEOUT_MS (Node default: 300 s)', async () => {
    const { logger } = captureLogger();
    rx = await startReceiver(
      loadConfig({ REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: uniquePrefix('trickle'), RECEIVER_PORT: '0', RECEIVER_HOST: '127.0.0.1', RECEIVER_HEADERS_TIMEOUT_MS: '1000', RECEIVER_REQUEST_TIMEOUT_MS: '2000' }),
      logger,
    );
    const s = await rawSocket(rx.port);
    let answer = '';
    let closed = false;
    s.on('data', (d) => (answer += d.toString()));
    s.on('close', () => (closed = true));
    s.on('error', () => undefined);
    const body = webhook('c-trickle');
    s.write(`POST /webhook/genesys-dtmf HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
    let i = 0;
    const timer = setInterval(() => !closed && i < body.length && s.write(body[i++]!), 200); // all of it would take ~10 s
    try {
      await waitFor(() => closed, 'the server to cut the trickled request', 8000, 50);
    } finally {
      clearInterval(timer);
    }
    expect(i).toBeLessThan(body.length);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  }, 20000);

  it('a client that aborts mid-body is logged at info as a constant message, not "unhandled error" at error', async () => {
    const { logger, lines } = captureLogger();
    rx = await startReceiver(loadConfig({ REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: uniquePrefix('abort'), RECEIVER_PORT: '0', RECEIVER_HOST: '127.0.0.1' }), logger);
    const s = await rawSocket(rx.port);
    s.on('error', () => undefined);
    s.write('POST /webhook/genesys-dtmf HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"conversationId":');
    await new Promise((r) => setTimeout(r, 200)); // let the handler start reading the body
    s.destroy();
    const line = await waitFor(() => lines.find((l) => l.msg === 'client aborted the request'), 'the abort to be logged', 5000);
    expect(line.level).toBe(30); // info
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
  });
});

describe('a frozen Redis during ingest: 503 "outcome unknown", distinct from "could not be stored"', () => {
  let server: RedisServer;
  let rx: RunningReceiver;
  const cap = captureLogger();
  beforeAll(async () => {
    server = await startRedisServer();
    rx = await startReceiver(loadConfig({ REDIS_URL: server.url, QUEUE_PREFIX: 'frozen', RECEIVER_PORT: '0', RECEIVER_HOST: '127.0.0.1', STORE_TIMEOUT_MS: '1000' }), cap.logger);
  }, 20000);
  afterAll(async () => {
    if (server?.pid) process.kill(server.pid, 'SIGCONT'); // still running (the test kills it at its end)
    await rx?.close();
    await server?.stop();
  });

  it('frozen: 503 outcome unknown; once Redis wakes the same key is a duplicate (it was stored); down: could not be stored', async () => {
    expect((await post(rx.url, webhook('c-0'), 'warm-up')).status).toBe(202);
    process.kill(server.pid!, 'SIGSTOP'); // Redis frozen: the TCP connection stays open, nothing answers
    let res: Response;
    try {
      res = await post(rx.url, webhook('c-frozen'), 'frozen-key');
    } finally {
      process.kill(server.pid!, 'SIGCONT');
    }
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('store_outcome_unknown');
    expect(body.error.message).toMatch(/^outcome unknown: .*retrying with the same idempotency key is safe/);
    expect(cap.lines.find((l) => l.msg === 'event outcome unknown: Redis did not answer; a retry with the same key is safe')).toMatchObject({ idempotencyKey: 'frozen-key' });
    // The transaction was in Redis' input buffer: it ran when Redis woke, so a retry is a duplicate, never a second job.
    const retry = await waitFor(async () => {
      const r = await post(rx.url, webhook('c-frozen'), 'frozen-key');
      return r.status === 503 ? undefined : r;
    }, 'a retry after Redis woke', 10000, 200);
    expect(retry.status).toBe(200);
    expect(((await retry.json()) as { status: string }).status).toBe('duplicate');

    await server.kill('SIGKILL');
    const down = await waitFor(async () => {
      const r = await post(rx.url, webhook('c-down'), 'down-key');
      const b = (await r.json()) as { error?: { code: string; message: string } };
      return b.error?.code === 'store_unavailable' ? { status: r.status, b } : undefined;
    }, 'a 503 store_unavailable once Redis is down', 10000, 100);
    expect(down.status).toBe(503);
    expect(down.b.error!.message).toMatch(/could not be stored/);
  }, 30000);
});
