import type { HeatmapQuery } from '@ivr/reporting';
import { badRequest } from './errors';

// A date (2024-05-01) or a date-time with optional seconds, fraction and zone (Z or ±hh:mm).
const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;
// now, now-15m, now-1h, now-7d, now-90s (Grafana's relative form, subtraction only).
const RELATIVE = /^now(?:-(\d{1,6})(s|m|h|d|w))?$/i;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** The heatmap page's presets: label, `range=` value and span. */
export const RANGE_PRESETS = [
  { id: '15m', label: '15 min', ms: 15 * 60_000 },
  { id: '1h', label: '1 hour', ms: 3600_000 },
  { id: '24h', label: '24 hours', ms: 86_400_000 },
  { id: '7d', label: '7 days', ms: 7 * 86_400_000 },
] as const;

/** Bucket widths for "decisions over time": the smallest giving at most ~60 buckets for the range. */
const BUCKETS_MS = [10_000, 30_000, 60_000, 5 * 60_000, 15 * 60_000, 30 * 60_000, 3600_000, 3 * 3600_000, 6 * 3600_000, 12 * 3600_000, 86_400_000, 7 * 86_400_000];

function bucketFor(spanMs: number, maxBuckets = 60): number {
  return BUCKETS_MS.find((b) => spanMs / b <= maxBuckets) ?? BUCKETS_MS[BUCKETS_MS.length - 1]!;
}

function parseBound(name: 'from' | 'to', raw: string | undefined, now: number): string | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = raw.trim();
  const rel = RELATIVE.exec(value);
  if (rel) {
    const n = rel[1] ? Number(rel[1]) * UNIT_MS[rel[2]!.toLowerCase()]! : 0;
    return new Date(now - n).toISOString();
  }
  const ms = ISO.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw badRequest(
      `"${name}" must be an ISO 8601 date or date-time (2024-05-01, 2024-05-01T09:00:00Z) or a relative time (now, now-15m, now-1h, now-7d); got ${JSON.stringify(raw.slice(0, 80))}`,
    );
  }
  return new Date(ms).toISOString();
}

/** `from` (inclusive) and `to` (exclusive) from query parameters, normalised to ISO UTC; 400 on bad values. */
export function parseTimeRange(params: { from?: string | undefined; to?: string | undefined }, now = Date.now()): HeatmapQuery {
  const from = parseBound('from', params.from, now);
  const to = parseBound('to', params.to, now);
  if (from && to && from >= to) throw badRequest(`"from" (${from}) must be before "to" (${to})`);
  const q: HeatmapQuery = {};
  if (from) q.from = from;
  if (to) q.to = to;
  return q;
}

export interface HeatmapRange {
  query: HeatmapQuery;
  /** What the form shows. */
  from: string;
  to: string;
  /** The preset in use, if any. */
  preset: string | undefined;
}

/**
 * The heatmap page's range: `range=15m|1h|24h|7d` (a preset: from now-<span> to now), else `from`/`to` (ISO or
 * relative); with both ends known, decisions over time are bucketed to fit the span. Nothing given: all time.
 */
export function heatmapRange(params: { range?: string | undefined; from?: string | undefined; to?: string | undefined }, now = Date.now()): HeatmapRange {
  const preset = RANGE_PRESETS.find((p) => p.id === params.range);
  if (params.range !== undefined && params.range !== '' && !preset) {
    throw badRequest(`"range" must be one of ${RANGE_PRESETS.map((p) => p.id).join(', ')}; got ${JSON.stringify(params.range.slice(0, 40))}`);
  }
  const from = preset ? `now-${preset.id}` : (params.from ?? '');
  const to = preset ? 'now' : (params.to ?? '');
  const query = parseTimeRange({ from, to: to || (from ? 'now' : '') }, now);
  if (query.from && query.to) query.bucketMs = bucketFor(Date.parse(query.to) - Date.parse(query.from));
  return { query, from, to: to || (from ? 'now' : ''), preset: preset?.id };
}
