import { ROUTES, type Route } from '@ivr/core';
import type { CountMatrix, DecisionDoc, HeatmapData, HeatmapQuery, TimeSeries, WaitView } from './store';

/** Available-agent buckets, in display order. */
export const AGENT_BUCKETS = ['0', '1', '2', '3-4', '5-9', '10+'] as const;
export type AgentBucket = (typeof AGENT_BUCKETS)[number];

/** Hours of day (UTC), "00".."23". */
export const HOURS: readonly string[] = Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0'));

/** The agents row of a fail-open decision (queue_occupancy null: Genesys could not answer). */
export const UNKNOWN_AGENTS = 'unknown';

/** The agent bucket for an occupancy (available agents); negatives count as "0", null (fail-open) is "unknown". */
export function agentBucket(agents: number | null): AgentBucket | typeof UNKNOWN_AGENTS {
  if (agents === null) return UNKNOWN_AGENTS;
  if (agents < 1) return '0';
  if (agents < 2) return '1';
  if (agents < 3) return '2';
  if (agents < 5) return '3-4';
  if (agents < 10) return '5-9';
  return '10+';
}

/** UTC hour of day "00".."23" for an epoch-ms timestamp. */
export function hourOfDay(ms: number): string {
  return String(new Date(ms).getUTCHours()).padStart(2, '0');
}

const KEYPAD = '0123456789*#ABCD';

/** DTMF ordering: single keys 0-9 * # A-D first (keypad order), then everything else lexically. */
export function compareDtmf(a: string, b: string): number {
  const ra = a.length === 1 ? KEYPAD.indexOf(a) : -1;
  const rb = b.length === 1 ? KEYPAD.indexOf(b) : -1;
  if (ra >= 0 && rb >= 0) return ra - rb;
  if (ra >= 0) return -1;
  if (rb >= 0) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function isRoute(v: unknown): v is Route {
  return typeof v === 'string' && (ROUTES as readonly string[]).includes(v);
}

/** Row → route → count, filled by the stores and turned into a CountMatrix. */
export class Tally {
  private readonly cells = new Map<string, number[]>();

  add(row: string, route: string, n = 1): void {
    const col = (ROUTES as readonly string[]).indexOf(route);
    if (col < 0 || n === 0) return;
    let counts = this.cells.get(row);
    if (!counts) {
      counts = ROUTES.map(() => 0);
      this.cells.set(row, counts);
    }
    counts[col] = (counts[col] ?? 0) + n;
  }

  has(row: string): boolean {
    return this.cells.has(row);
  }

  /** With `rows` the matrix has exactly those rows (zeros where absent); without, the present rows sorted by `compare`. */
  toMatrix(rows?: readonly string[], compare: (a: string, b: string) => number = compareDtmf): CountMatrix {
    const rowList = rows ? [...rows] : [...this.cells.keys()].sort(compare);
    return {
      rows: rowList,
      cols: [...ROUTES],
      counts: rowList.map((r) => [...(this.cells.get(r) ?? ROUTES.map(() => 0))]),
    };
  }
}

/** The agents matrix: the six buckets always, the "unknown" (fail-open) row only when present. */
export function agentsMatrix(tally: Tally): CountMatrix {
  return tally.toMatrix(tally.has(UNKNOWN_AGENTS) ? [...AGENT_BUCKETS, UNKNOWN_AGENTS] : AGENT_BUCKETS);
}

/** At most this many "over time" buckets per query (the bucket is widened until the range fits). */
export const MAX_TIME_BUCKETS = 500;

/** The time-bucket plan of a query: epoch-aligned bucket width and the [first, last] bucket starts, or null. */
export function timeBucketPlan(query?: HeatmapQuery): { bucketMs: number; firstMs: number; lastMs: number } | null {
  if (!query?.bucketMs || query.from === undefined || query.to === undefined) return null;
  const from = parseTime(query.from, 'from');
  const to = parseTime(query.to, 'to');
  if (!(to > from) || !(query.bucketMs > 0)) return null;
  let bucketMs = Math.max(1000, Math.round(query.bucketMs));
  while (Math.floor((to - 1) / bucketMs) - Math.floor(from / bucketMs) + 1 > MAX_TIME_BUCKETS) bucketMs *= 2;
  return { bucketMs, firstMs: Math.floor(from / bucketMs) * bucketMs, lastMs: Math.floor((to - 1) / bucketMs) * bucketMs };
}

/** Every bucket start of a plan, ISO. */
export function bucketRows(plan: { bucketMs: number; firstMs: number; lastMs: number }): string[] {
  const rows: string[] = [];
  for (let t = plan.firstMs; t <= plan.lastMs; t += plan.bucketMs) rows.push(new Date(t).toISOString());
  return rows;
}

/** A TimeSeries from a tally keyed by bucket-start ISO strings. */
export function timeSeries(tally: Tally, plan: { bucketMs: number; firstMs: number; lastMs: number }): TimeSeries {
  return { bucketMs: plan.bucketMs, ...tally.toMatrix(bucketRows(plan)) };
}

/** The estimated-wait view of no decisions: every hour column, no rows. */
export function emptyWaitView(): WaitView {
  return { rows: [], cols: [...HOURS], decisions: [], withFigure: [], meanS: [], routedByWait: [], totals: { decisions: 0, withFigure: 0, withoutFigure: 0, routedByWait: 0, meanS: null } };
}

export function emptyHeatmap(): HeatmapData {
  return {
    total: 0,
    from: null,
    to: null,
    dtmfByRoute: new Tally().toMatrix(),
    hourByRoute: new Tally().toMatrix(HOURS),
    agentsByRoute: new Tally().toMatrix(AGENT_BUCKETS),
    overTime: null,
    latency: null,
    wait: emptyWaitView(),
  };
}

/** An empty heatmap for a query: the "over time" rows are still there (all zero) when a plan applies. */
export function emptyHeatmapFor(query?: HeatmapQuery): HeatmapData {
  const plan = timeBucketPlan(query);
  return { ...emptyHeatmap(), overTime: plan ? timeSeries(new Tally(), plan) : null };
}

/** Per-route totals (column sums) of a matrix. */
export function routeTotals(m: CountMatrix): Record<string, number> {
  const out: Record<string, number> = {};
  m.cols.forEach((c, j) => {
    out[c] = m.counts.reduce((s, row) => s + (row[j] ?? 0), 0);
  });
  return out;
}

/** Parse an ISO time into epoch ms, or throw a readable error. */
export function parseTime(iso: string, what: string): number {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) throw new Error(`invalid ${what} time: ${JSON.stringify(iso)}`);
  return ms;
}

/** Why a document cannot be stored (non-retryable), or null when it is fine. */
export function invalidDocReason(doc: DecisionDoc): string | null {
  if (!doc || typeof doc.decisionId !== 'string' || doc.decisionId.length === 0) return 'missing decisionId';
  if (typeof doc.timestamp !== 'string' || !Number.isFinite(Date.parse(doc.timestamp))) return `invalid timestamp: ${JSON.stringify(doc.timestamp)}`;
  if (!isRoute(doc.routing_decision)) return `invalid routing_decision: ${JSON.stringify(doc.routing_decision)}`;
  if (typeof doc.dtmf !== 'string') return 'invalid dtmf';
  if (doc.queue_occupancy !== null && (typeof doc.queue_occupancy !== 'number' || !Number.isFinite(doc.queue_occupancy))) return 'invalid queue_occupancy';
  return null;
}
