/**
 * A fixed-rate HTTP driver that keeps every request's own timing (send time on the wall clock, round trip, status,
 * the answer's `status` field), for the in-call decision measure: autocannon's overallRate gives only latencies,
 * and the per-stage breakdown needs each request's send time beside the server's own timestamps (same box, same
 * clock). Request i is due at start + i/rate; a request due while all `connections` sockets are busy waits in the
 * agent, and that wait counts in its round trip (no coordinated omission).
 */
import { Agent, request } from 'node:http';
import { parseServerTiming } from '@ivr/metrics';

export interface Timed {
  n: number;
  key: string;
  /** Wall-clock ms (fractional) when the request was due and issued. */
  sentAt: number;
  ms: number;
  status: number;
  /** The answer's `status` field (`decided`, `accepted`, ...). */
  answer: string | undefined;
  /** The answer's `Server-Timing` stages, ms (empty when it had none). */
  timing: Record<string, number>;
}

export interface FixedRateOptions {
  url: string;
  rate: number;
  seconds: number;
  connections: number;
  headers?: Record<string, string>;
  body: (n: number) => { key: string; body: string };
  /** First request number (so consecutive rounds use distinct keys/conversations). */
  from?: number;
}

const wallNow = () => performance.timeOrigin + performance.now();

export async function fixedRate(o: FixedRateOptions): Promise<Timed[]> {
  const u = new URL(o.url);
  const agent = new Agent({ keepAlive: true, maxSockets: o.connections });
  const total = Math.round(o.rate * o.seconds);
  const from = o.from ?? 0;
  const out: Timed[] = [];
  const inflight: Promise<void>[] = [];
  const one = (n: number) =>
    new Promise<void>((resolve) => {
      const { key, body } = o.body(n);
      const sentAt = wallNow();
      const t0 = performance.now();
      const req = request(
        { agent, host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'idempotency-key': key, ...o.headers } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            let answer: string | undefined;
            try {
              answer = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { status?: string }).status;
            } catch {
              answer = undefined;
            }
            const header = res.headers['server-timing'];
            out.push({ n, key, sentAt, ms: performance.now() - t0, status: res.statusCode ?? 0, answer, timing: parseServerTiming(Array.isArray(header) ? header.join(', ') : header) });
            resolve();
          });
        },
      );
      req.on('error', () => {
        out.push({ n, key, sentAt, ms: performance.now() - t0, status: 0, answer: undefined, timing: {} });
        resolve();
      });
      req.end(body);
    });
  const start = performance.now();
  for (let i = 0; i < total; ) {
    const due = start + (i * 1000) / o.rate;
    const wait = due - performance.now();
    if (wait > 0.5) await new Promise((r) => setTimeout(r, wait));
    const now = performance.now();
    while (i < total && start + (i * 1000) / o.rate <= now + 0.5) inflight.push(one(from + i++));
  }
  await Promise.all(inflight);
  agent.destroy();
  return out.sort((a, b) => a.n - b.n);
}
