import { ROUTES } from '@ivr/core';
import { percentile } from '@ivr/queues';
import { HOURS, Tally, agentBucket, agentsMatrix, emptyHeatmap, emptyHeatmapFor, hourOfDay, parseTime, timeBucketPlan, timeSeries } from './matrix';
import type { HeatmapData, HeatmapQuery } from './store';

/** How the embedded store reads heatmaps: from its all-time counters, or from the by-time entries of a range. */

/** Zset entry: compact, unique per decision (the id is in it). agents null = fail-open; latency absent in older entries. */
export type Entry = [id: string, dtmf: string, routeIdx: number, agents: number | null, latencyMs?: number];

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
export function heatmapFromCounters(hashes: { dtmf: Record<string, string>; hour: Record<string, string>; agents: Record<string, string> }, meta: (string | null)[]): HeatmapData {
  const total = Number(meta[0] ?? 0);
  if (total === 0) return emptyHeatmap();
  const dtmf = new Tally();
  const hour = new Tally();
  const agents = new Tally();
  foldCounters(dtmf, hashes.dtmf);
  foldCounters(hour, hashes.hour);
  foldCounters(agents, hashes.agents);
  return {
    total,
    from: meta[1] ? new Date(Number(meta[1])).toISOString() : null,
    to: meta[2] ? new Date(Number(meta[2])).toISOString() : null,
    dtmfByRoute: dtmf.toMatrix(),
    hourByRoute: hour.toMatrix(HOURS),
    agentsByRoute: agentsMatrix(agents),
    overTime: null,
    latency: null, // the all-time counters hold no latency (see HeatmapData.latency)
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
  let total = 0;
  let minMs = Infinity;
  let maxMs = -Infinity;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const [, d, routeIdx, occ, latencyMs] = JSON.parse(flat[i]!) as Entry;
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
  };
}
