import type { Redis } from 'ioredis';
import { routeFor, scopedKey, type DecisionRecord, type Route } from '@ivr/core';
import { keyspace } from '@ivr/queue-contract';
import type { RecordedEvent } from '@ivr/intake';

/** What a recorded decision saw and chose. */
export interface ObservedDecision {
  dtmf: string;
  /** Available agents the decision saw (queue_occupancy). */
  occupancy: number;
  route: Route;
  occupancySource: DecisionRecord['occupancySource'];
  threshold: number;
}

export interface WhatIfRow {
  dtmf: string;
  total: number;
  /** `${old}→${new}` → count, over the four route pairs. */
  moves: Record<string, number>;
  /** Decisions made without an occupancy reading (DEFAULT_ROUTE): kept as they were. */
  failOpen: number;
}

export interface WhatIfResult {
  threshold: number;
  total: number;
  changed: number;
  toQueue: number;
  toVoicemail: number;
  failOpen: number;
  /** Thresholds the recorded decisions used, with counts. */
  recordedThresholds: Record<string, number>;
  rows: WhatIfRow[];
}

const ROUTES: Route[] = ['route_to_queue', 'route_to_vm'];
export const MOVES = ROUTES.flatMap((a) => ROUTES.map((b) => `${a}→${b}`));

/**
 * Recompute each decision with another threshold and the same observed occupancy (`routeFor(occupancy, threshold)`).
 * Fail-open decisions saw no occupancy, so they keep their route. Pure.
 */
export function whatIf(decisions: readonly ObservedDecision[], threshold: number): WhatIfResult {
  const rows = new Map<string, WhatIfRow>();
  const res: WhatIfResult = { threshold, total: 0, changed: 0, toQueue: 0, toVoicemail: 0, failOpen: 0, recordedThresholds: {}, rows: [] };
  for (const d of decisions) {
    const row = rows.get(d.dtmf) ?? { dtmf: d.dtmf, total: 0, moves: Object.fromEntries(MOVES.map((m) => [m, 0])), failOpen: 0 };
    rows.set(d.dtmf, row);
    row.total++;
    res.total++;
    res.recordedThresholds[d.threshold] = (res.recordedThresholds[d.threshold] ?? 0) + 1;
    if (d.occupancySource === 'fail_open') {
      row.failOpen++;
      res.failOpen++;
      continue;
    }
    const next = routeFor(d.occupancy, threshold);
    const move = `${d.route}→${next}`;
    row.moves[move] = (row.moves[move] ?? 0) + 1;
    if (next !== d.route) {
      res.changed++;
      if (next === 'route_to_queue') res.toQueue++;
      else res.toVoicemail++;
    }
  }
  res.rows = [...rows.values()].sort((a, b) => a.dtmf.localeCompare(b.dtmf, undefined, { numeric: true }));
  return res;
}

/** Plain-text report: the headline, then DTMF × (old→new). */
export function formatWhatIf(r: WhatIfResult, context: { recorded: number; missing: number; prefix: string }): string {
  const pct = r.total ? ((100 * r.changed) / r.total).toFixed(1) : '0.0';
  const recorded = Object.entries(r.recordedThresholds).map(([t, n]) => `${t} for ${n} calls`).join(', ') || 'none';
  const short = (m: string) => m.replace(/route_to_queue/g, 'queue').replace(/route_to_vm/g, 'vm');
  const lines = [
    `What-if: threshold ${r.threshold} instead of the recorded threshold ${recorded}, with the occupancy each call saw`,
    `  ${context.recorded} recorded events, ${r.total} with a stored decision under prefix "${context.prefix}"${context.missing ? `, ${context.missing} without (expired after IDEMPOTENCY_TTL_S, or another QUEUE_PREFIX / --prefix)` : ''}`,
    `  ${r.changed} of ${r.total} calls (${pct}%) would change route: ${r.toQueue} to route_to_queue, ${r.toVoicemail} to route_to_vm${r.failOpen ? `; ${r.failOpen} fail-open decisions kept (no occupancy was seen)` : ''}`,
    '',
    ['DTMF'.padEnd(6), ...MOVES.map((m) => short(m).padStart(12)), 'fail-open'.padStart(10), 'changed'.padStart(9), 'total'.padStart(7)].join(''),
  ];
  for (const row of r.rows) {
    const changed = MOVES.filter((m) => m.split('→')[0] !== m.split('→')[1]).reduce((n, m) => n + (row.moves[m] ?? 0), 0);
    lines.push([row.dtmf.padEnd(6), ...MOVES.map((m) => String(row.moves[m] ?? 0).padStart(12)), String(row.failOpen).padStart(10), String(changed).padStart(9), String(row.total).padStart(7)].join(''));
  }
  return lines.join('\n');
}

/**
 * The stored decision of each recorded event, from Redis `ks.decision(scopedKey)` (kept IDEMPOTENCY_TTL_S).
 * `prefix` overrides the prefix recorded on each line.
 */
export async function loadObservedDecisions(
  redis: Redis,
  events: readonly RecordedEvent[],
  defaultPrefix: string,
  prefix?: string,
): Promise<{ decisions: ObservedDecision[]; missing: number; prefixes: string[] }> {
  const keys = events.map((e) => keyspace(prefix ?? e.prefix ?? defaultPrefix).decision(scopedKey(e.idempotencyKey, e.keySpace)));
  const decisions: ObservedDecision[] = [];
  let missing = 0;
  for (let i = 0; i < keys.length; i += 500) {
    const values = await redis.mget(...keys.slice(i, i + 500));
    for (const v of values) {
      if (!v) {
        missing++;
        continue;
      }
      const d = JSON.parse(v) as DecisionRecord;
      decisions.push({ dtmf: d.dtmf, occupancy: d.queue_occupancy ?? 0, route: d.routing_decision, occupancySource: d.occupancySource, threshold: d.threshold });
    }
  }
  const prefixes = [...new Set(events.map((e) => prefix ?? e.prefix ?? defaultPrefix))];
  return { decisions, missing, prefixes };
}
