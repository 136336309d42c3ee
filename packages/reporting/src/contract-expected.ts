import { ROUTES, routedByWaitRule, type Route } from '@ivr/core';
import type { DecisionDoc, WaitView } from './store';

/** Naive expected counts (deliberately not the stores' code). */
export function expected(docs: DecisionDoc[]) {
  const bucketOf = (n: number | null) => (n === null ? 'unknown' : n <= 0 ? '0' : n === 1 ? '1' : n === 2 ? '2' : n <= 4 ? '3-4' : n <= 9 ? '5-9' : '10+');
  const col = (r: Route) => ROUTES.indexOf(r);
  const dtmfRows = [...new Set(docs.map((d) => d.dtmf))].sort();
  const hourRows = Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0'));
  const agentRows = ['0', '1', '2', '3-4', '5-9', '10+', ...(docs.some((d) => d.queue_occupancy === null) ? ['unknown'] : [])];
  const zeros = (rows: string[]) => rows.map(() => ROUTES.map(() => 0));
  const dtmf = zeros(dtmfRows);
  const hour = zeros(hourRows);
  const agents = zeros(agentRows);
  for (const d of docs) {
    dtmf[dtmfRows.indexOf(d.dtmf)]![col(d.routing_decision)]!++;
    hour[new Date(d.timestamp).getUTCHours()]![col(d.routing_decision)]!++;
    agents[agentRows.indexOf(bucketOf(d.queue_occupancy))]![col(d.routing_decision)]!++;
  }
  const times = docs.map((d) => Date.parse(d.timestamp)).sort((a, b) => a - b);
  return {
    total: docs.length,
    from: docs.length ? new Date(times[0]!).toISOString() : null,
    to: docs.length ? new Date(times[times.length - 1]!).toISOString() : null,
    dtmfByRoute: { rows: dtmfRows, cols: [...ROUTES], counts: dtmf },
    hourByRoute: { rows: hourRows, cols: [...ROUTES], counts: hour },
    agentsByRoute: { rows: agentRows, cols: [...ROUTES], counts: agents },
    overTime: null,
    wait: expectedWait(docs),
  };
}

/** Naive wait view: DTMF (as sorted above) × hour cells, mean of the figures rounded to 0.1 s. */
export function expectedWait(docs: DecisionDoc[]): WaitView {
  const rows = [...new Set(docs.map((d) => d.dtmf))].sort();
  const cols = Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0'));
  const cell = (r: string, h: string) => docs.filter((d) => d.dtmf === r && new Date(d.timestamp).getUTCHours() === Number(h));
  const grid = <T>(f: (ds: DecisionDoc[]) => T) => rows.map((r) => cols.map((h) => f(cell(r, h))));
  const figures = (ds: DecisionDoc[]) => ds.flatMap((d) => (d.estimatedWaitS === undefined ? [] : [d.estimatedWaitS]));
  const mean = (xs: number[]) => (xs.length ? Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 10) / 10 : null);
  const all = figures(docs);
  return {
    rows,
    cols,
    decisions: grid((ds) => ds.length),
    withFigure: grid((ds) => figures(ds).length),
    meanS: grid((ds) => mean(figures(ds))),
    routedByWait: grid((ds) => ds.filter(routedByWaitRule).length),
    totals: { decisions: docs.length, withFigure: all.length, withoutFigure: docs.length - all.length, routedByWait: docs.filter(routedByWaitRule).length, meanS: mean(all) },
  };
}

/** HeatmapData without `latency` (compared separately: percentile methods differ within rank bounds). */
export function withoutLatency<T extends { latency?: unknown }>(h: T): Omit<T, 'latency'> {
  const { latency: _latency, ...rest } = h;
  return rest;
}

/** Bounds a percentile q of `values` must fall in, whatever the method (nearest rank, interpolation, TDigest on few values). */
export function percentileBounds(values: number[], q: number): [number, number] {
  const s = [...values].sort((a, b) => a - b);
  const lo = Math.max(0, Math.floor(q * (s.length - 1)) - 1);
  const hi = Math.min(s.length - 1, Math.ceil(q * (s.length - 1)) + 1);
  return [s[lo]!, s[hi]!];
}

