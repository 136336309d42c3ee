import { MEDIA_TYPES, type MediaType, type QueueCounts } from './types';

export interface ObservationDatum {
  metric: string;
  qualifier?: string;
  stats: { count: number };
}

export interface ObservationResult {
  group: { queueId: string } | { mediaType: MediaType; queueId: string };
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

/** Metrics about users on the queue (all media): answered in the `{queueId}` group. */
const USER_METRICS = new Set(['oOnQueueUsers', 'oActiveUsers', 'oMemberUsers', 'oOffQueueUsers', 'oUserPresences', 'oUserRoutingStatuses']);
/** Metrics about conversations: answered in one `{mediaType, queueId}` group per media type. */
const CONVERSATION_METRICS = new Set(['oWaiting', 'oInteracting', 'oAlerting', 'oLongestWaiting', 'oLongestInteracting']);

function userData(metrics: readonly string[], q: QueueCounts): ObservationDatum[] {
  const data: ObservationDatum[] = [];
  for (const metric of metrics) {
    if (metric === 'oOnQueueUsers') {
      // One datum per routing status that has users; a status nobody is in is omitted (absent means 0).
      if (q.idle > 0) data.push({ metric, qualifier: 'IDLE', stats: { count: q.idle } });
      if (q.interactingUsers > 0) data.push({ metric, qualifier: 'INTERACTING', stats: { count: q.interactingUsers } });
    } else if (metric === 'oActiveUsers' || metric === 'oMemberUsers') {
      // A plain count is given explicitly, zero included.
      data.push({ metric, stats: { count: q.idle + q.interactingUsers } });
    }
    // Other user metrics are known to Genesys but not simulated: omitted.
  }
  return data;
}

function mediaData(metrics: readonly string[], q: QueueCounts, mediaType: MediaType): ObservationDatum[] {
  const counts = q.media[mediaType];
  const data: ObservationDatum[] = [];
  for (const metric of metrics) {
    // Conversation counts per media type are given explicitly, zero included.
    if (metric === 'oWaiting') data.push({ metric, stats: { count: counts.waiting } });
    else if (metric === 'oInteracting') data.push({ metric, stats: { count: counts.interacting } });
    else if (metric === 'oAlerting') data.push({ metric, stats: { count: counts.alerting } });
  }
  return data;
}

/**
 * One queue's results, in the shape Genesys answers (see GENESYS.md "Queue observations" and the fixtures in
 * packages/genesys/src/fixtures): one `{queueId}` group for the user metrics, then, when conversation
 * metrics were asked for, one `{mediaType, queueId}` group per media type. Types: the SDK's
 * QueueObservationDataContainer (`group` is a string map, `data` ObservationMetricData[]).
 */
export function observe(queueId: string, metrics: readonly string[], counts: QueueCounts): ObservationResult[] {
  const users = userData(metrics.filter((m) => USER_METRICS.has(m)), counts);
  const results: ObservationResult[] = [users.length > 0 ? { group: { queueId }, data: users } : { group: { queueId } }];
  const conversationMetrics = metrics.filter((m) => CONVERSATION_METRICS.has(m));
  if (conversationMetrics.length === 0) return results;
  for (const mediaType of MEDIA_TYPES) {
    const data = mediaData(conversationMetrics, counts, mediaType);
    results.push(data.length > 0 ? { group: { mediaType, queueId }, data } : { group: { mediaType, queueId } });
  }
  return results;
}
