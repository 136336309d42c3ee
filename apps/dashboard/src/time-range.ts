import type { HeatmapQuery } from '@ivr/reporting';
import { badRequest } from './errors';

// A date (2024-05-01) or a date-time with optional seconds, fraction and zone (Z or ±hh:mm).
const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

function parseBound(name: 'from' | 'to', raw: string | undefined): string | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = raw.trim();
  const ms = ISO.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw badRequest(`query parameter "${name}" must be an ISO 8601 date or date-time (e.g. 2024-05-01 or 2024-05-01T09:00:00Z), got ${JSON.stringify(raw)}`);
  }
  return new Date(ms).toISOString();
}

/** `from` (inclusive) and `to` (exclusive) from query parameters, normalised to ISO UTC; 400 on bad values. */
export function parseTimeRange(params: { from?: string | undefined; to?: string | undefined }): HeatmapQuery {
  const from = parseBound('from', params.from);
  const to = parseBound('to', params.to);
  if (from && to && from >= to) throw badRequest(`"from" (${from}) must be before "to" (${to})`);
  const q: HeatmapQuery = {};
  if (from) q.from = from;
  if (to) q.to = to;
  return q;
}
