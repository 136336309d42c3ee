import type { estypes } from '@elastic/elasticsearch';
import { HOURS, Tally, UNKNOWN_AGENTS, agentsMatrix, compareDtmf, emptyHeatmapFor, parseTime, timeBucketPlan, timeSeries } from './matrix';
import type { HeatmapData, HeatmapQuery } from './store';
import { WaitTally } from './wait-view';

/** Terms size for DTMF rows; beyond it the remainder is folded into an "(other)" row so totals stay exact. */
const DTMF_TERMS_SIZE = 1000;
export const OTHER_DTMF_ROW = '(other)';

export const byRoute = { terms: { field: 'routing_decision', size: 10 } } as const;

/**
 * The heatmap aggregations (one `_search`, `size: 0`). With a time-bucket plan, `over_time` is a `date_histogram`
 * with `fixed_interval` (buckets aligned to the epoch, UTC, as the embedded store's) and `extended_bounds` so empty
 * buckets are returned too; fail-open decisions (queue_occupancy null, not indexed) are counted by a `missing` agg;
 * latency p50/p99 by a `percentiles` agg (TDigest: approximate on large sets, exact-ish on small ones).
 * https://www.elastic.co/guide/en/elasticsearch/reference/current/search-aggregations-bucket-datehistogram-aggregation.html
 */
export function heatmapAggregations(plan?: { bucketMs: number; firstMs: number; lastMs: number } | null): Record<string, estypes.AggregationsAggregationContainer> {
  return {
    ...(plan
      ? {
          over_time: {
            date_histogram: {
              field: 'timestamp',
              fixed_interval: `${plan.bucketMs}ms`,
              min_doc_count: 0,
              extended_bounds: { min: plan.firstMs, max: plan.lastMs },
            },
            aggs: { by_route: byRoute },
          },
        }
      : {}),
    agents_unknown: { missing: { field: 'queue_occupancy' }, aggs: { by_route: byRoute } },
    latency: { percentiles: { field: 'latencyMs', percents: [50, 99] } },
    by_dtmf: { terms: { field: 'dtmf', size: DTMF_TERMS_SIZE, order: { _key: 'asc' } }, aggs: { by_route: byRoute } },
    // hour_of_day is indexed at write time (toStoredDecision), not a Painless runtime field: the same query runs on
    // every distribution, including the integ-test node the tests use, which ships no scripting module.
    by_hour: { terms: { field: 'hour_of_day', size: 24 }, aggs: { by_route: byRoute } },
    by_agents: {
      range: {
        field: 'queue_occupancy',
        ranges: [
          { key: '0', to: 1 },
          { key: '1', from: 1, to: 2 },
          { key: '2', from: 2, to: 3 },
          { key: '3-4', from: 3, to: 5 },
          { key: '5-9', from: 5, to: 10 },
          { key: '10+', from: 10 },
        ],
      },
      aggs: { by_route: byRoute },
    },
    by_route: byRoute,
    // The estimated-wait view: DTMF × hour cells, the figures' count and sum (mean = sum / count, as the embedded
    // store computes it) and the decisions the wait rule sent to voicemail.
    wait: {
      terms: { field: 'dtmf', size: DTMF_TERMS_SIZE },
      aggs: {
        by_hour: {
          terms: { field: 'hour_of_day', size: 24 },
          aggs: {
            figures: { value_count: { field: 'estimatedWaitS' } },
            sum_s: { sum: { field: 'estimatedWaitS' } },
            by_wait: { filter: { term: { routed_by_wait: true } } },
          },
        },
      },
    },
    min_ts: { min: { field: 'timestamp' } },
    max_ts: { max: { field: 'timestamp' } },
  };
}

/** Bool filter for an optional [from, to) range on timestamp. */
export function rangeQuery(query?: HeatmapQuery): estypes.QueryDslQueryContainer {
  if (!query || (query.from === undefined && query.to === undefined)) return { match_all: {} };
  const range: estypes.QueryDslDateRangeQuery = { format: 'strict_date_optional_time' };
  if (query.from !== undefined) range.gte = new Date(parseTime(query.from, 'from')).toISOString();
  if (query.to !== undefined) range.lt = new Date(parseTime(query.to, 'to')).toISOString();
  return { bool: { filter: [{ range: { timestamp: range } }] } };
}

export interface KeyedBucket {
  key: string | number;
  key_as_string?: string;
  doc_count: number;
  by_route?: { buckets: Array<{ key: string | number; doc_count: number }>; sum_other_doc_count?: number };
}

/** A DTMF bucket of the `wait` aggregation. */
interface WaitBucket {
  key: string | number;
  by_hour?: { buckets: Array<{ key: string | number; doc_count: number; figures: { value: number }; sum_s: { value: number }; by_wait: { doc_count: number } }> };
}

export function foldBuckets(tally: Tally, buckets: readonly KeyedBucket[] | undefined, rowOf: (b: KeyedBucket) => string): void {
  for (const b of buckets ?? []) {
    const row = rowOf(b);
    for (const r of b.by_route?.buckets ?? []) tally.add(row, String(r.key), r.doc_count);
  }
}

/** The HeatmapData of one heatmap `_search` answer (aggregations from heatmapAggregations). */
export function heatmapFromResponse(res: estypes.SearchResponse, query: HeatmapQuery | undefined, plan: ReturnType<typeof timeBucketPlan>): HeatmapData {
  const total = typeof res.hits.total === 'number' ? res.hits.total : (res.hits.total?.value ?? 0);
  if (total === 0) return emptyHeatmapFor(query);
  const aggs = (res.aggregations ?? {}) as Record<
    string,
    { buckets?: KeyedBucket[]; sum_other_doc_count?: number; value?: number | null; values?: Record<string, number | null>; doc_count?: number } & Partial<KeyedBucket>
  >;
  const dtmf = new Tally();
  foldBuckets(dtmf, aggs.by_dtmf?.buckets, (b) => String(b.key));
  if ((aggs.by_dtmf?.sum_other_doc_count ?? 0) > 0) {
    // More distinct DTMF strings than the terms size: keep totals exact in one "(other)" row.
    const shown = dtmf.toMatrix();
    for (const r of aggs.by_route?.buckets ?? []) {
      const j = shown.cols.indexOf(String(r.key));
      const inRows = j < 0 ? 0 : shown.counts.reduce((s, row) => s + (row[j] ?? 0), 0);
      dtmf.add(OTHER_DTMF_ROW, String(r.key), r.doc_count - inRows);
    }
  }
  const hour = new Tally();
  foldBuckets(hour, aggs.by_hour?.buckets, (b) => String(b.key).padStart(2, '0'));
  const agents = new Tally();
  foldBuckets(agents, aggs.by_agents?.buckets, (b) => String(b.key));
  for (const r of aggs.agents_unknown?.by_route?.buckets ?? []) agents.add(UNKNOWN_AGENTS, String(r.key), r.doc_count);
  const overTime = new Tally();
  foldBuckets(overTime, aggs.over_time?.buckets, (b) => new Date(Number(b.key)).toISOString());
  const p50 = aggs.latency?.values?.['50.0'];
  const p99 = aggs.latency?.values?.['99.0'];
  const wait = new WaitTally();
  for (const d of (aggs.wait?.buckets ?? []) as WaitBucket[]) {
    for (const h of d.by_hour?.buckets ?? []) {
      wait.add(String(d.key), String(h.key).padStart(2, '0'), { decisions: h.doc_count, withFigure: h.figures.value, sumS: h.sum_s.value, routedByWait: h.by_wait.doc_count });
    }
  }
  const minV = aggs.min_ts?.value;
  const maxV = aggs.max_ts?.value;
  return {
    total,
    from: typeof minV === 'number' ? new Date(minV).toISOString() : null,
    to: typeof maxV === 'number' ? new Date(maxV).toISOString() : null,
    dtmfByRoute: dtmf.toMatrix(undefined, (a, b) => (a === OTHER_DTMF_ROW ? 1 : b === OTHER_DTMF_ROW ? -1 : compareDtmf(a, b))),
    hourByRoute: hour.toMatrix(HOURS),
    agentsByRoute: agentsMatrix(agents),
    overTime: plan ? timeSeries(overTime, plan) : null,
    latency: typeof p50 === 'number' && typeof p99 === 'number' ? { count: total, p50, p99 } : null,
    wait: wait.toView(),
  };
}
