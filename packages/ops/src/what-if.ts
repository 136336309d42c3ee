import type { Redis } from 'ioredis';
import { ROUTES, readStoredDecision, resolveTarget, routeFor, routedByWaitRule, scopedKey, type DecisionRecord, type Route, type RoutingPolicy } from '@ivr/core';
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
  /** Genesys' estimated wait the decision used (s); absent: it had none (no maxEstimatedWaitS, too few agents, or no answer). */
  estimatedWaitS?: number;
  /** Sent to voicemail by the recorded maxEstimatedWaitS (routedByWaitRule). */
  routedByWait?: boolean;
}

/**
 * What to replay the decisions against. `threshold`: another OCCUPANCY_THRESHOLD for every call (default: each
 * decision's own). `maxWait`: another maxEstimatedWaitS, one for every call (`null`: no wait rule) or per digit in
 * the routing policy's shape (a digit without it inherits `default`'s; neither: no wait rule for that digit).
 * Without `maxWait` the recorded wait rule stays as it was.
 */
export interface WhatIfAlternative {
  threshold?: number;
  maxWait?: { global: number | null } | { policy: RoutingPolicy };
}

export interface WhatIfRow {
  dtmf: string;
  total: number;
  /** `${old}→${new}` → count, over the four route pairs. */
  moves: Record<string, number>;
  /** Decisions made without an occupancy reading (DEFAULT_ROUTE): kept as they were. */
  failOpen: number;
  /** Decisions the alternative maxEstimatedWaitS would need a wait figure for and that recorded none: kept. */
  noFigure: number;
}

export interface WhatIfResult {
  alternative: WhatIfAlternative;
  total: number;
  changed: number;
  toQueue: number;
  toVoicemail: number;
  failOpen: number;
  noFigure: number;
  /** Thresholds the recorded decisions used, with counts. */
  recordedThresholds: Record<string, number>;
  rows: WhatIfRow[];
}

export const MOVES = ROUTES.flatMap((a) => ROUTES.map((b) => `${a}→${b}`));

/** The maximum wait the alternative gives a decision: undefined = no wait rule; 'recorded' = as it was. */
function maxWaitFor(alt: WhatIfAlternative, d: ObservedDecision): number | undefined | 'recorded' {
  if (!alt.maxWait) return 'recorded';
  if ('global' in alt.maxWait) return alt.maxWait.global ?? undefined;
  return resolveTarget(alt.maxWait.policy, d.dtmf).maxEstimatedWaitS;
}

/** The route a decision would take under the alternative, or null when it cannot be said (no wait figure: kept). */
export function replayRoute(d: ObservedDecision, alt: WhatIfAlternative): Route | null {
  const threshold = alt.threshold ?? d.threshold;
  if (d.occupancy < threshold) return 'route_to_vm'; // too few agents: the wait is never read
  const maxS = maxWaitFor(alt, d);
  // The recorded rule (its maximum is not on the record): a call it sent to voicemail still goes there.
  if (maxS === 'recorded') return d.routedByWait ? 'route_to_vm' : 'route_to_queue';
  if (maxS === undefined) return 'route_to_queue';
  if (d.estimatedWaitS === undefined) return null;
  return routeFor(d.occupancy, threshold, { estimatedS: d.estimatedWaitS, maxS });
}

/**
 * Replays each decision against another threshold and/or maxEstimatedWaitS with what it saw (available agents, the
 * estimated wait it stored). Fail-open decisions saw no occupancy and decisions that would need a wait figure they
 * do not have keep their route (counted as fail-open / no figure). Pure.
 */
export function whatIf(decisions: readonly ObservedDecision[], alternative: WhatIfAlternative): WhatIfResult {
  const rows = new Map<string, WhatIfRow>();
  const res: WhatIfResult = { alternative, total: 0, changed: 0, toQueue: 0, toVoicemail: 0, failOpen: 0, noFigure: 0, recordedThresholds: {}, rows: [] };
  for (const d of decisions) {
    const row = rows.get(d.dtmf) ?? { dtmf: d.dtmf, total: 0, moves: Object.fromEntries(MOVES.map((m) => [m, 0])), failOpen: 0, noFigure: 0 };
    rows.set(d.dtmf, row);
    row.total++;
    res.total++;
    res.recordedThresholds[d.threshold] = (res.recordedThresholds[d.threshold] ?? 0) + 1;
    if (d.occupancySource === 'fail_open') {
      row.failOpen++;
      res.failOpen++;
      continue;
    }
    const next = replayRoute(d, alternative);
    if (next === null) {
      row.noFigure++;
      res.noFigure++;
      continue;
    }
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

/** The alternative in words: "threshold 2", "maxEstimatedWaitS 60 for every call", "maxEstimatedWaitS per digit (…)". */
function describeAlternative(alt: WhatIfAlternative): string {
  const parts: string[] = [];
  if (alt.threshold !== undefined) parts.push(`threshold ${alt.threshold}`);
  if (alt.maxWait && 'global' in alt.maxWait) parts.push(alt.maxWait.global === null ? 'no maxEstimatedWaitS' : `maxEstimatedWaitS ${alt.maxWait.global} for every call`);
  if (alt.maxWait && 'policy' in alt.maxWait) {
    const p = alt.maxWait.policy;
    const digits = Object.entries(p.digits).flatMap(([k, t]) => (t.maxEstimatedWaitS === undefined ? [] : [`${k}: ${t.maxEstimatedWaitS}`]));
    parts.push(`maxEstimatedWaitS per digit (default ${p.default.maxEstimatedWaitS ?? 'none'}${digits.length ? `; ${digits.join(', ')}` : ''})`);
  }
  return parts.join(' and ') || 'the recorded policy';
}

/** Plain-text report: the headline, then DTMF × (old→new). */
export function formatWhatIf(r: WhatIfResult, context: { recorded: number; missing: number; prefix: string }): string {
  const pct = r.total ? ((100 * r.changed) / r.total).toFixed(1) : '0.0';
  const recorded = Object.entries(r.recordedThresholds).map(([t, n]) => `${t} for ${n} calls`).join(', ') || 'none';
  const short = (m: string) => m.replace(/route_to_queue/g, 'queue').replace(/route_to_vm/g, 'vm');
  const lines = [
    `What-if: ${describeAlternative(r.alternative)} instead of the recorded policy (threshold ${recorded}), with the occupancy and estimated wait each call saw`,
    `  ${context.recorded} recorded events, ${r.total} with a stored decision under prefix "${context.prefix}"${context.missing ? `, ${context.missing} without (expired after IDEMPOTENCY_TTL_S, or another QUEUE_PREFIX / --prefix)` : ''}`,
    `  ${r.changed} of ${r.total} calls (${pct}%) would change route: ${r.toQueue} to route_to_queue, ${r.toVoicemail} to route_to_vm${r.failOpen ? `; ${r.failOpen} fail-open decisions kept (no occupancy was seen)` : ''}${r.noFigure ? `; ${r.noFigure} kept with no figure (no estimated wait stored)` : ''}`,
    '',
    ['DTMF'.padEnd(6), ...MOVES.map((m) => short(m).padStart(12)), 'fail-open'.padStart(10), 'no figure'.padStart(10), 'changed'.padStart(9), 'total'.padStart(7)].join(''),
  ];
  for (const row of r.rows) {
    const changed = MOVES.filter((m) => m.split('→')[0] !== m.split('→')[1]).reduce((n, m) => n + (row.moves[m] ?? 0), 0);
    lines.push([row.dtmf.padEnd(6), ...MOVES.map((m) => String(row.moves[m] ?? 0).padStart(12)), String(row.failOpen).padStart(10), String(row.noFigure).padStart(10), String(changed).padStart(9), String(row.total).padStart(7)].join(''));
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
      const d = readStoredDecision(JSON.parse(v) as DecisionRecord);
      decisions.push({
        dtmf: d.dtmf,
        occupancy: d.queue_occupancy ?? 0,
        route: d.routing_decision,
        occupancySource: d.occupancySource,
        threshold: d.threshold,
        ...(d.estimatedWaitS !== undefined ? { estimatedWaitS: d.estimatedWaitS, routedByWait: routedByWaitRule(d) } : {}),
      });
    }
  }
  const prefixes = [...new Set(events.map((e) => prefix ?? e.prefix ?? defaultPrefix))];
  return { decisions, missing, prefixes };
}
