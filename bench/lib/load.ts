import autocannon, { type AutocannonRequest, type AutocannonResult } from 'autocannon';

export interface LoadResult {
  /** 2xx responses per second over the run. */
  okPerSec: number;
  requests: number;
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  /** Response times of 2xx answers, ms (float, measured by autocannon per request). */
  p50: number;
  p99: number;
  seconds: number;
}

export interface LoadOptions {
  url: string;
  connections: number;
  /** Seconds to run (or `amount` requests). */
  duration?: number;
  amount?: number;
  /** Fixed total rate, requests per second (autocannon overallRate). */
  overallRate?: number;
  /** Builds a request body for request number `n` (unique per request). */
  body: (n: number) => { key: string; body: string };
  /** Extra request headers (e.g. `Prefer: wait=2`). */
  headers?: Record<string, string>;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * Drive `url` with autocannon: POST JSON with a unique Idempotency-Key per request (setupRequest), count
 * status codes and keep every 2xx response time (autocannon's own histogram is whole milliseconds).
 */
export function load(opts: LoadOptions): Promise<LoadResult> {
  let n = 0;
  const latencies: number[] = [];
  const request: AutocannonRequest = {
    method: 'POST',
    path: new URL(opts.url).pathname,
    headers: { 'content-type': 'application/json' },
    setupRequest: (req) => {
      const r = opts.body(n++);
      return { ...req, headers: { 'content-type': 'application/json', ...opts.headers, 'idempotency-key': r.key }, body: r.body };
    },
  };
  return new Promise((resolve, reject) => {
    const inst = autocannon(
      {
        url: new URL(opts.url).origin,
        connections: opts.connections,
        ...(opts.amount !== undefined ? { amount: opts.amount } : { duration: opts.duration ?? 5 }),
        ...(opts.overallRate ? { overallRate: opts.overallRate } : {}),
        timeout: 10,
        requests: [request],
      },
      (err: Error | null, res: AutocannonResult) => {
        if (err) return reject(err);
        latencies.sort((a, b) => a - b);
        const statuses = Object.fromEntries(Object.entries(res.statusCodeStats ?? {}).map(([k, v]) => [k, v.count]));
        const ok = Object.entries(statuses).filter(([s]) => s.startsWith('2')).reduce((a, [, c]) => a + c, 0);
        const seconds = res.duration || (res.finish.getTime() - res.start.getTime()) / 1000;
        resolve({
          okPerSec: ok / seconds,
          requests: Object.values(statuses).reduce((a, b) => a + b, 0),
          statuses,
          errors: res.errors,
          timeouts: res.timeouts,
          p50: percentile(latencies, 50),
          p99: percentile(latencies, 99),
          seconds,
        });
      },
    );
    inst.on('response', (_c: unknown, status: number, _b: number, ms: number) => {
      if (status >= 200 && status < 300) latencies.push(ms);
    });
  });
}
