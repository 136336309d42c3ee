import type { Queue } from 'bullmq';
import { QUEUE_NAMES, type HeldState } from '@ivr/queue-contract';
import { genesysPauseMs, groupFailed, queueBacklog, recentWriteLag, type FailureGroup, type QueueBacklog } from '@ivr/ops';
import type { BudgetUsage } from '@ivr/genesys';
import { ROUTE_LABELS, type DecisionStore, type HeatmapData } from '@ivr/reporting';
import { escapeHtml, formatDuration, timeHtml } from './layout';

/** The status strip's windows. */
const STATUS_WINDOWS = [
  { label: 'Last 15 min', preset: '15m', ms: 15 * 60_000 },
  { label: 'Last hour', preset: '1h', ms: 3600_000 },
  { label: 'Last 24 h', preset: '24h', ms: 86_400_000 },
] as const;

interface WindowStatus {
  label: string;
  preset: string;
  total: number;
  byRoute: Record<string, number>;
  failOpen: number;
  latency: HeatmapData['latency'];
}

export interface DashboardStatus {
  at: string;
  windows: WindowStatus[] | { error: string };
  failures: FailureGroup[];
  backlog: QueueBacklog[];
  genesysPauseMs: number;
  /** The shared Genesys request budget (GENESYS_RATE_PER_MIN), null when unknown (no reader, or Redis did not answer). */
  budget: BudgetUsage | null;
  writeLag: { count: number; p50: number; p99: number } | null;
  /** Events held for an in-call decision (no job yet), null when unknown (no reader, or Redis did not answer). */
  held: HeldState | null;
}

function windowStatus(label: string, preset: string, h: HeatmapData): WindowStatus {
  const byRoute: Record<string, number> = {};
  h.dtmfByRoute.cols.forEach((c, j) => (byRoute[c] = h.agentsByRoute.counts.reduce((s, row) => s + (row[j] ?? 0), 0)));
  const u = h.agentsByRoute.rows.indexOf('unknown');
  const failOpen = u < 0 ? 0 : (h.agentsByRoute.counts[u] ?? []).reduce((a, b) => a + b, 0);
  return { label, preset, total: h.total, byRoute, failOpen, latency: h.latency };
}

/** Everything the home page shows; store failures are reported in `windows`, never thrown (the queues still show). */
export async function collectStatus(queues: readonly Queue[], store: DecisionStore, now = Date.now(), readBudget?: () => Promise<BudgetUsage>, readHeld?: () => Promise<HeldState>): Promise<DashboardStatus> {
  const writes = queues.find((q) => q.name === QUEUE_NAMES.writes);
  const to = new Date(now).toISOString();
  const windowsP = Promise.all(STATUS_WINDOWS.map((w) => store.heatmap({ from: new Date(now - w.ms).toISOString(), to }).then((h) => windowStatus(w.label, w.preset, h)))).catch(
    (e: unknown) => ({ error: e instanceof Error ? e.message : String(e) }),
  );
  const [windows, failures, backlog, pause, budget, writeLag, held] = await Promise.all([
    windowsP,
    groupFailed(queues, 500),
    queueBacklog(queues, now),
    writes ? genesysPauseMs(writes) : Promise.resolve(0),
    readBudget ? readBudget().catch(() => null) : Promise.resolve(null),
    writes ? recentWriteLag(writes) : Promise.resolve(null),
    readHeld ? readHeld().catch(() => null) : Promise.resolve(null),
  ]);
  return { at: to, windows, failures, backlog, genesysPauseMs: pause, budget, writeLag, held };
}

const num = (n: number) => escapeHtml(String(n));

/** Past its deadline by more than this, a held event means no decide worker sweeps (the IvrHeldEventsNotSwept alert's 5 s). */
const HELD_OVERDUE_MS = 5000;

/** The calls held for an in-call decision (they have no job yet, so the backlog table does not count them). */
function heldHtml(s: DashboardStatus): string {
  const h = s.held;
  if (!h) return '';
  const overdueMs = h.oldestDueAt === null ? 0 : Date.parse(s.at) - h.oldestDueAt;
  if (overdueMs > HELD_OVERDUE_MS) {
    return `<p class="bad" id="status-held">${num(h.count)} call${h.count === 1 ? '' : 's'} held for an in-call decision, the earliest ${escapeHtml(formatDuration(overdueMs))} past its deadline: its receiver did not decide it and no decide worker is sweeping held events (WORKER_ROLES without <code>decide</code>, or the workers are down).</p>`;
  }
  return `<p class="muted" id="status-held">${h.count ? `${num(h.count)} call${h.count === 1 ? '' : 's'} held for an in-call decision now (being decided by their receiver; no job yet).` : 'No call held for an in-call decision.'}</p>`;
}

/** The home page body: the status strip. */
export function statusHtml(s: DashboardStatus, opts: { storeSource: string }): string {
  const routes = Object.keys(ROUTE_LABELS);
  const calls = Array.isArray(s.windows)
    ? `<table id="status-calls" class="stack"><thead><tr><th>Window</th><th class="num">Decisions</th>${routes.map((r) => `<th class="num">${escapeHtml(ROUTE_LABELS[r] ?? r)}</th>`).join('')}<th class="num">Genesys unavailable</th><th class="num">Latency p50 / p99</th></tr></thead><tbody>${s.windows
        .map(
          (w) =>
            `<tr><th scope="row"><a href="/admin/heatmap?range=${w.preset}">${escapeHtml(w.label)}</a></th><td class="num" data-label="Decisions">${num(w.total)}</td>${routes
              .map((r) => `<td class="num" data-label="${escapeHtml(ROUTE_LABELS[r] ?? r)}">${num(w.byRoute[r] ?? 0)}</td>`)
              .join('')}<td class="num${w.failOpen ? ' warn' : ''}" data-label="Genesys unavailable">${num(w.failOpen)}</td><td class="num" data-label="Latency p50 / p99">${w.latency ? `${Math.round(w.latency.p50)} / ${Math.round(w.latency.p99)} ms` : '—'}</td></tr>`,
        )
        .join('')}</tbody></table><p class="muted">From the decision store (${escapeHtml(opts.storeSource)}). "Genesys unavailable": decisions made without an occupancy reading (DEFAULT_ROUTE).</p>`
    : `<div class="notice" id="store-unavailable" role="alert"><strong>Decision store unavailable.</strong> ${escapeHtml(s.windows.error)}<br>Decisions and Genesys writes carry on; reports wait in the <code>decision-reports</code> queue until the store answers. This page retries on every refresh.</div>`;

  const failedTotal = s.backlog.reduce((a, b) => a + b.failed, 0);
  const failing = s.failures.length
    ? `<table id="status-failures"><thead><tr><th>Queue</th><th>Reason</th><th class="num">Jobs</th></tr></thead><tbody>${s.failures
        .slice(0, 6)
        .map((g) => `<tr><td>${escapeHtml(g.queue)}</td><td>${escapeHtml(g.reason)}${g.retryable ? '' : ' <span class="muted">(not retryable)</span>'}</td><td class="num bad">${num(g.count)}</td></tr>`)
        .join('')}</tbody></table><p><a href="/admin/failures">${num(failedTotal)} failed job${failedTotal === 1 ? '' : 's'}: reasons, hints and retry →</a></p>`
    : '<p class="ok" id="status-no-failures">No failed jobs.</p>';

  const pause = s.genesysPauseMs > 0
    ? `<p class="bad" id="status-429">Genesys 429: writes paused for ${escapeHtml(formatDuration(s.genesysPauseMs))} more (Retry-After).</p>`
    : '<p class="ok" id="status-429">No Genesys 429 pause.</p>';
  const b = s.budget;
  const budget = b
    ? `<p id="status-budget"${b.used >= b.limit ? ' class="warn"' : ''}>Genesys budget: ${num(b.used)} of ${num(b.limit)} requests in the last ${escapeHtml(formatDuration(b.windowMs))} (every process, every endpoint)${b.pausedMs > 0 ? `; all requests paused ${escapeHtml(formatDuration(b.pausedMs))} more after a 429` : ''}.</p>`
    : '<p class="muted" id="status-budget">Genesys budget: not known here.</p>';
  const lag = s.writeLag
    ? `<p>Write lag (job added → Genesys write done), last ${num(s.writeLag.count)} writes: p50 ${escapeHtml(formatDuration(s.writeLag.p50))}, p99 ${escapeHtml(formatDuration(s.writeLag.p99))}.</p>`
    : '<p class="muted">Write lag: no completed writes kept.</p>';

  const backlog = `<table id="status-backlog" class="stack"><thead><tr><th>Queue</th><th class="num">Waiting</th><th class="num">Oldest waiting</th><th class="num">Active</th><th class="num">Delayed</th><th class="num">Failed</th></tr></thead><tbody>${s.backlog
    .map(
      (b) =>
        `<tr><th scope="row"><a href="/admin/queues/queue/${encodeURIComponent(b.queue)}">${escapeHtml(b.queue)}</a>${b.paused ? ' <span class="warn">paused</span>' : ''}</th><td class="num" data-label="Waiting">${num(b.waiting)}</td><td class="num${b.oldestWaitingMs !== null && b.oldestWaitingMs > 60_000 ? ' warn' : ''}" data-label="Oldest waiting">${b.oldestWaitingMs === null ? '—' : escapeHtml(formatDuration(b.oldestWaitingMs))}</td><td class="num" data-label="Active">${num(b.active)}</td><td class="num" data-label="Delayed">${num(b.delayed)}</td><td class="num${b.failed ? ' bad' : ''}" data-label="Failed">${num(b.failed)}</td></tr>`,
    )
    .join('')}</tbody></table>${heldHtml(s)}`;

  return `<section class="card" aria-labelledby="h-calls"><h2 id="h-calls">Calls per route</h2>${calls}</section>
<div class="grid">
  <section class="card" aria-labelledby="h-failing"><h2 id="h-failing">Failing now</h2>${failing}</section>
  <section class="card" aria-labelledby="h-genesys"><h2 id="h-genesys">Genesys</h2>${pause}${budget}${lag}</section>
</div>
<section class="card" aria-labelledby="h-backlog"><h2 id="h-backlog">Backlog</h2>${backlog}</section>
<p class="muted">Status at ${timeHtml(s.at)}.</p>`;
}
