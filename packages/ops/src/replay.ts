import { percentile, signStandardWebhook } from '@ivr/core';
import type { RecordedEvent } from '@ivr/intake';

export interface ReplayOptions {
  /** Receiver base URL, e.g. http://127.0.0.1:3000 */
  url: string;
  /** Requests per second; 0 = as fast as `concurrency` allows. */
  rate?: number;
  concurrency?: number;
  /** Append this to every idempotency key so the receiver treats the replay as new events (default: keep keys, replays are duplicates). */
  keySuffix?: string;
  /** Sign like Standard Webhooks (WEBHOOK_SECRET of the receiver). */
  webhookSecret?: string;
  /** Send X-Webhook-Token (WEBHOOK_TOKEN of the receiver). */
  webhookToken?: string;
  timeoutMs?: number;
  onProgress?: (p: ReplayProgress) => void;
  fetch?: typeof fetch;
  now?: () => number;
}

export interface ReplayProgress {
  done: number;
  total: number;
  elapsedMs: number;
  byStatus: Record<string, number>;
}

export interface ReplaySummary {
  sent: number;
  /** HTTP status (or `error` for no answer) → count. */
  byStatus: Record<string, number>;
  /** First few transport errors, for the summary. */
  errors: string[];
  elapsedMs: number;
  ratePerS: number;
  p50Ms: number;
  p99Ms: number;
}

/** Send recorded webhooks to a running receiver, paced at `rate` per second, and summarise the answers. */
export async function replay(events: readonly RecordedEvent[], opts: ReplayOptions): Promise<ReplaySummary> {
  const doFetch = opts.fetch ?? fetch;
  const now = opts.now ?? (() => performance.now());
  const endpoint = `${opts.url.replace(/\/+$/, '')}/webhook/genesys-dtmf`;
  const concurrency = Math.max(1, opts.concurrency ?? 16);
  const rate = opts.rate ?? 0;
  const byStatus: Record<string, number> = {};
  const latencies: number[] = [];
  const errors: string[] = [];
  const start = now();
  let next = 0;
  let done = 0;

  async function send(e: RecordedEvent): Promise<void> {
    const body = typeof e.body === 'string' ? e.body : JSON.stringify(e.body);
    const key = `${e.idempotencyKey}${opts.keySuffix ?? ''}`;
    const headers: Record<string, string> = { 'content-type': e.headers['content-type'] ?? 'application/json' };
    // A key the receiver derived from the body is derived again from the same body (sent as a header it would
    // be a sender's key: another key space, another event); a suffix or a signature needs it as a header.
    if (e.keySpace !== 'body' || opts.keySuffix || opts.webhookSecret) headers['idempotency-key'] = key;
    if (e.headers['user-agent']) headers['user-agent'] = e.headers['user-agent'];
    if (opts.webhookToken) headers['x-webhook-token'] = opts.webhookToken;
    if (opts.webhookSecret) Object.assign(headers, signStandardWebhook(opts.webhookSecret, key, body, new Date()));
    const t = now();
    try {
      const res = await doFetch(endpoint, { method: 'POST', headers, body, signal: AbortSignal.timeout(opts.timeoutMs ?? 15000) });
      await res.arrayBuffer();
      byStatus[res.status] = (byStatus[res.status] ?? 0) + 1;
    } catch (err) {
      byStatus.error = (byStatus.error ?? 0) + 1;
      if (errors.length < 5) errors.push(`${(err as Error).message}${(err as { cause?: Error }).cause ? `: ${(err as { cause: Error }).cause.message}` : ''}`);
    }
    latencies.push(now() - t);
    done++;
    opts.onProgress?.({ done, total: events.length, elapsedMs: now() - start, byStatus });
  }

  async function lane(): Promise<void> {
    for (;;) {
      const i = next++;
      if (i >= events.length) return;
      if (rate > 0) {
        const due = start + (i * 1000) / rate;
        const wait = due - now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      await send(events[i]!);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, events.length)) }, lane));

  const elapsedMs = now() - start;
  latencies.sort((a, b) => a - b);
  return {
    sent: done,
    byStatus,
    errors,
    elapsedMs,
    ratePerS: elapsedMs > 0 ? (done * 1000) / elapsedMs : 0,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

/** A progress display: on a TTY one line redrawn in place (at most every 100 ms); otherwise a line every 10% or 5 s. */
export function progressPrinter(out: { write(s: string): unknown; isTTY?: boolean }, label = 'replay'): { update(p: ReplayProgress): void; end(): void } {
  let lastDraw = 0;
  let lastTenth = -1;
  let drawn = false;
  const text = (p: ReplayProgress) => {
    const rate = p.elapsedMs > 0 ? (p.done * 1000) / p.elapsedMs : 0;
    const statuses = Object.entries(p.byStatus).map(([s, n]) => `${s}:${n}`).join(' ');
    return `${p.done}/${p.total} ${rate.toFixed(0)}/s ${statuses}`;
  };
  return {
    update(p) {
      const t = Date.now();
      if (out.isTTY) {
        if (p.done < p.total && t - lastDraw < 100) return;
        lastDraw = t;
        const width = 30;
        const filled = p.total ? Math.round((width * p.done) / p.total) : width;
        out.write(`\r\x1b[2K${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text(p)}`);
        drawn = true;
        return;
      }
      const tenth = p.total ? Math.floor((10 * p.done) / p.total) : 10;
      if (tenth > lastTenth || t - lastDraw >= 5000) {
        lastTenth = tenth;
        lastDraw = t;
        out.write(`${label} ${text(p)}\n`);
      }
    },
    end() {
      if (out.isTTY && drawn) out.write('\n');
    },
  };
}

export function formatReplaySummary(s: ReplaySummary, url: string): string {
  const statuses = Object.entries(s.byStatus)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${n}× ${k}`)
    .join(', ');
  const lines = [
    `Replayed ${s.sent} webhooks to ${url} in ${(s.elapsedMs / 1000).toFixed(1)} s (${s.ratePerS.toFixed(1)}/s)`,
    `  answers: ${statuses || 'none'}`,
    `  latency: p50 ${s.p50Ms.toFixed(1)} ms, p99 ${s.p99Ms.toFixed(1)} ms`,
  ];
  if ((s.byStatus['200'] ?? 0) > 0 && !s.byStatus['202']) lines.push('  (200 = duplicate: the receiver already has these keys; use --new-keys to replay them as new events)');
  if (s.byStatus['401']) lines.push('  (401: set WEBHOOK_SECRET or WEBHOOK_TOKEN in the environment to what the receiver uses)');
  if (s.errors.length) lines.push(`  errors: ${s.errors.join('; ')}`);
  return lines.join('\n');
}
