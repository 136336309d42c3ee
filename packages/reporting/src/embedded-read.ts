import { ROUTES, routedByWaitRule } from '@ivr/core';
import { percentile } from '@ivr/core';
import { HOURS, Tally, agentBucket, agentsMatrix, emptyHeatmap, emptyHeatmapFor, hourOfDay, parseTime, timeBucketPlan, timeSeries } from './matrix';
import type { DecisionDoc, HeatmapData, HeatmapQuery } from './store';
import { WaitTally } from './wait-view';

/** How the embedded store reads heatmaps: from its all-time counters, or from the by-time entries of a range. */

/**
 * Zset entry: compact, unique per decision (the id is in it). agents null = fail-open; latency absent in older entries;
 * estimatedWaitS (null: no figure) and routed-by-wait-rule (1/0) absent in entries written before the wait view.
 */
export type Entry = [id: string, dtmf: string, routeIdx: number, agents: number | null, latencyMs?: number | null, waitS?: number | null, byWait?: 0 | 1];

/** The wait-view part of an entry: its cell ("HH" + dtmf), figure and rule flag; null for an entry older than the view. */
export function entryWait(e: Entry, ms: number): { cell: string; hour: string; waitS: number | null; byWait: boolean } | null {
  if (e.length < 7) return null;
  const hour = hourOfDay(ms);
  return { cell: `${hour}${e[1]}`, hour, waitS: typeof e[5] === 'number' ? e[5] : null, byWait: e[6] === 1 };
}

/** The entry and the wait fields writeBatch stores for a decision. */
export function entryOf(doc: DecisionDoc, routeIdx: number): Entry {
  return [doc.decisionId, doc.dtmf, routeIdx, doc.queue_occupancy, doc.latencyMs, doc.estimatedWaitS ?? null, routedByWaitRule(doc) ? 1 : 0];
}

/** Adds the wait counters hash ("n|w|s|r" + "HH" + dtmf → value) to a wait tally. */
function foldWaitCounters(tally: WaitTally, hash: Record<string, string>): void {
  const key = { n: 'decisions', w: 'withFigure', s: 'sumS', r: 'routedByWait' } as const;
  for (const [field, value] of Object.entries(hash)) {
    const k = key[field[0] as keyof typeof key];
    if (k && field.length >= 3) tally.add(field.slice(3), field.slice(1, 3), { [k]: Number(value) });
  }
}

/** The zset score bounds of a query's [from, to), or null for all time. */
export function rangeBounds(query?: HeatmapQuery): [string, string] | null {
  if (!query || (query.from === undefined && query.to === undefined)) return null;
  const min = query.from !== undefined ? String(parseTime(query.from, 'from')) : '-inf';
  const max = query.to !== undefined ? `(${parseTime(query.to, 'to')}` : '+inf';
  return [min, max];
}

/** Adds a counter hash ("routeIdx:row" → n) to a tally. */
function foldCounters(tally: Tally, hash: Record<string, string>): void {
  for (const [field, value] of Object.entries(hash)) {
    const sep = field.indexOf(':');
    const route = ROUTES[Number(field.slice(0, sep))];
    if (sep < 0 || !route) continue;
    tally.add(field.slice(sep + 1), route, Number(value));
  }
}

/** The all-time heatmap from the counter hashes and meta [total, minMs, maxMs]. */
export function heatmapFromCounters(hashes: { dtmf: Record<string, string>; hour: Record<string, string>; agents: Record<string, string>; wait: Record<string, string> }, meta: (string | null)[]): HeatmapData {
  const total = Number(meta[0] ?? 0);
  if (total === 0) return emptyHeatmap();
  const dtmf = new Tally();
  const hour = new Tally();
  const agents = new Tally();
  foldCounters(dtmf, hashes.dtmf);
  foldCounters(hour, hashes.hour);
  foldCounters(agents, hashes.agents);
  const wait = new WaitTally();
  foldWaitCounters(wait, hashes.wait);
  return {
    total,
    from: meta[1] ? new Date(Number(meta[1])).toISOString() : null,
    to: meta[2] ? new Date(Number(meta[2])).toISOString() : null,
    dtmfByRoute: dtmf.toMatrix(),
    hourByRoute: hour.toMatrix(HOURS),
    agentsByRoute: agentsMatrix(agents),
    overTime: null,
    latency: null, // the all-time counters hold no latency (see HeatmapData.latency)
    wait: wait.toView(),
  };
}

/** A range's heatmap from its by-time entries (ZRANGE … WITHSCORES: entry, score, entry, score, …). */
export function heatmapFromEntries(flat: readonly string[], query: HeatmapQuery): HeatmapData {
  if (flat.length === 0) return emptyHeatmapFor(query);
  const plan = timeBucketPlan(query);
  const dtmf = new Tally();
  const hour = new Tally();
  const agents = new Tally();
  const overTime = new Tally();
  const latencies: number[] = [];
  const wait = new WaitTally();
  let total = 0;
  let minMs = Infinity;
  let maxMs = -Infinity;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const entry = JSON.parse(flat[i]!) as Entry;
    const [, d, routeIdx, occ, latencyMs] = entry;
    const ms = Number(flat[i + 1]);
    const route = ROUTES[routeIdx];
    if (!route) continue;
    total++;
    if (ms < minMs) minMs = ms;
    if (ms > maxMs) maxMs = ms;
    dtmf.add(d, route);
    hour.add(hourOfDay(ms), route);
    agents.add(agentBucket(occ), route);
    if (plan) overTime.add(new Date(Math.floor(ms / plan.bucketMs) * plan.bucketMs).toISOString(), route);
    if (typeof latencyMs === 'number') latencies.push(latencyMs);
    const w = entryWait(entry, ms);
    if (w) wait.add(d, w.hour, { decisions: 1, withFigure: w.waitS === null ? 0 : 1, sumS: w.waitS ?? 0, routedByWait: w.byWait ? 1 : 0 });
  }
  latencies.sort((a, b) => a - b);
  return {
    total,
    from: new Date(minMs).toISOString(),
    to: new Date(maxMs).toISOString(),
    dtmfByRoute: dtmf.toMatrix(),
    hourByRoute: hour.toMatrix(HOURS),
    agentsByRoute: agentsMatrix(agents),
    overTime: plan ? timeSeries(overTime, plan) : null,
    latency: latencies.length ? { count: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99) } : null,
    wait: wait.toView(),
  };
}
