/** Bounded HTTP load for chaos scenarios and tests: a concurrency pool, a paced (steady-rate) pool, one webhook POST. */
import { setTimeout as sleep } from 'node:timers/promises';

/** Run `fn` over `items` with at most `concurrency` in flight. */
export async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  });
  await Promise.all(runners);
}

/** Like `pool`, but item i starts no earlier than i / ratePerS seconds after the start (steady load). */
export async function paced<T>(items: readonly T[], ratePerS: number, concurrency: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  const t0 = Date.now();
  await pool(items, concurrency, async (item, i) => {
    const wait = t0 + (i * 1000) / ratePerS - Date.now();
    if (wait > 0) await sleep(wait);
    await fn(item, i);
  });
}

/** One HTTP answer: status (0 = the request failed on the network or timed out), Retry-After, body text. */
export interface Answer {
  status: number;
  retryAfter: string | null;
  body: string;
}

/** POST one webhook to a receiver at `url` (keep-alive via Node's global fetch dispatcher), `headers` added (e.g. Prefer). Network failures answer status 0. */
export async function postWebhook(url: string, body: unknown, key: string, timeoutMs = 10000, headers: Record<string, string> = {}): Promise<Answer> {
  try {
    const res = await fetch(`${url}/webhook/genesys-dtmf`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key, ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.text() };
  } catch (e) {
    return { status: 0, retryAfter: null, body: (e as Error).message };
  }
}

/** Summary of HTTP answers: status → count. */
export function tally(answers: Iterable<Answer>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of answers) out[String(a.status)] = (out[String(a.status)] ?? 0) + 1;
  return out;
}
