import type { QueueCounts } from './types';

export interface ObservationDatum {
  metric: string;
  qualifier?: string;
  stats: { count: number };
}

export interface ObservationResult {
  group: { queueId: string };
  data?: ObservationDatum[];
}

export interface ObservationQuery {
  queueIds: string[];
  metrics: string[];
}

const KNOWN_METRICS = new Set([
  'oActiveUsers', 'oAlerting', 'oInteracting', 'oLongestInteracting', 'oLongestWaiting', 'oMemberUsers',
  'oOffQueueUsers', 'oOnQueueUsers', 'oUserPresences', 'oUserRoutingStatuses', 'oWaiting',
]);

interface Predicate {
  type?: unknown;
  dimension?: unknown;
  operator?: unknown;
  value?: unknown;
}

function collectPredicates(filter: Record<string, unknown>, out: Predicate[]): void {
  if (Array.isArray(filter.predicates)) out.push(...(filter.predicates as Predicate[]));
  if (Array.isArray(filter.clauses)) {
    for (const clause of filter.clauses) {
      if (typeof clause === 'object' && clause !== null) collectPredicates(clause as Record<string, unknown>, out);
    }
  }
}

/** Validates a QueueObservationQuery; returns the queues (deduplicated, in order) and metrics, or an error message. */
export function parseObservationQuery(body: unknown): ObservationQuery | string {
  if (typeof body !== 'object' || body === null) return 'Request body must be a QueueObservationQuery JSON object';
  const { filter, metrics } = body as Record<string, unknown>;
  if (typeof filter !== 'object' || filter === null) return 'filter is required';
  const type = (filter as Record<string, unknown>).type;
  if (type !== 'or' && type !== 'and') return 'filter.type must be one of [and, or]';
  if (!Array.isArray(metrics) || metrics.length === 0) return 'metrics must be a non-empty array';
  for (const m of metrics) {
    if (typeof m !== 'string' || !KNOWN_METRICS.has(m)) return `Unknown metric: ${String(m)}`;
  }
  const predicates: Predicate[] = [];
  collectPredicates(filter as Record<string, unknown>, predicates);
  const queueIds: string[] = [];
  for (const p of predicates) {
    if (p.dimension !== 'queueId') continue;
    if (typeof p.value !== 'string' || p.value.length === 0) return 'queueId predicate needs a string value';
    if (!queueIds.includes(p.value)) queueIds.push(p.value);
  }
  if (queueIds.length === 0) return 'filter must contain at least one queueId predicate';
  return { queueIds, metrics: metrics as string[] };
}

function push(data: ObservationDatum[], metric: string, count: number, qualifier?: string): void {
  if (count <= 0) return; // Genesys omits zero counts: absent means 0.
  data.push(qualifier === undefined ? { metric, stats: { count } } : { metric, qualifier, stats: { count } });
}

function metricData(data: ObservationDatum[], metric: string, q: QueueCounts): void {
  switch (metric) {
    case 'oOnQueueUsers':
      push(data, metric, q.idle, 'IDLE');
      push(data, metric, q.interacting, 'INTERACTING');
      return;
    case 'oActiveUsers':
    case 'oMemberUsers':
      push(data, metric, q.idle + q.interacting);
      return;
    case 'oWaiting':
      push(data, metric, q.waiting);
      return;
    case 'oInteracting':
      push(data, metric, q.interacting);
      return;
    case 'oAlerting':
      push(data, metric, q.alerting);
      return;
    default:
      return; // known to Genesys, not simulated: always 0, so omitted.
  }
}

export function observe(queueId: string, metrics: readonly string[], counts: QueueCounts): ObservationResult {
  const data: ObservationDatum[] = [];
  for (const metric of metrics) metricData(data, metric, counts);
  return data.length > 0 ? { group: { queueId }, data } : { group: { queueId } };
}
