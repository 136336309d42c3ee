import { Client, errors, type estypes } from '@elastic/elasticsearch';
import { HOURS, Tally, UNKNOWN_AGENTS, agentsMatrix, compareDtmf, emptyHeatmapFor, invalidDocReason, parseTime, timeBucketPlan, timeSeries } from './matrix';
import { StoreUnavailableError, type DecisionDoc, type DecisionStore, type HeatmapData, type HeatmapQuery, type WriteOutcome, type WriteOutcomesResult, type WriteResult } from './store';

export const DEFAULT_INDEX = 'genesys_flow_decisions';

export interface ElasticsearchStoreOptions {
  node: string;
  apiKey?: string;
  username?: string;
  password?: string;
  /** Index the decisions go to (default `genesys_flow_decisions`); also the index template's name and pattern. */
  index?: string;
  /** A ready client (tests: @elastic/elasticsearch-mock). Not closed by `close()`. */
  client?: Client;
  /** Refresh after each bulk (`'wait_for'` in tests that read right after writing). Default false. */
  refresh?: boolean | 'wait_for';
}

/** Hour of day (UTC, 0-23) of a decision, indexed beside it: the heatmap's hour rows are a plain terms aggregation. */
export interface DerivedFields {
  hour_of_day: number;
}

/** What one `_bulk` create sends: the decision record plus the fields derived from it at write time. */
export type StoredDecision = DecisionDoc & DerivedFields;

/**
 * Fields other parts of the system are adding to the decision record (write outcomes, media type, estimated wait).
 * They are mapped ahead of time so a record carrying them is never refused; once they are part of DecisionRecord the
 * type below requires them anyway.
 */
export type AnticipatedField = 'writeStatus' | 'writeReason' | 'writtenAt' | 'mediaType';

/** A mapping for every field of T (optional ones included), and for the anticipated fields at most. */
export type FieldMappingsFor<T> = { [K in keyof Required<T>]: estypes.MappingProperty } & Partial<Record<AnticipatedField, estypes.MappingProperty>>;

/**
 * Every field a stored decision can have, with its Elasticsearch type. `satisfies` makes this provably in step with
 * the record: a field of DecisionRecord (or DerivedFields) without a mapping, or a mapping for a field nobody writes
 * (other than the anticipated ones), does not compile. Ids, DTMF, routes, sources and states are keywords (exact
 * terms aggregations); `timestamp`/`writtenAt` dates; counts integers. `queue_occupancy` may be null (occupancy
 * unknown): a null is stored in _source and not indexed (https://www.elastic.co/guide/en/elasticsearch/reference/8.19/null-value.html).
 */
export const DECISION_FIELDS = {
  decisionId: { type: 'keyword' },
  idempotencyKey: { type: 'keyword' },
  timestamp: { type: 'date' },
  flowInstanceId: { type: 'keyword' },
  conversationId: { type: 'keyword' },
  participantId: { type: 'keyword' },
  dtmf: { type: 'keyword' },
  queueId: { type: 'keyword' },
  threshold: { type: 'integer' },
  queue_occupancy: { type: 'integer' },
  routing_decision: { type: 'keyword' },
  state: { type: 'keyword' },
  sequence: { type: 'integer' },
  latencyMs: { type: 'integer' },
  occupancySource: { type: 'keyword' },
  reason: { type: 'keyword', ignore_above: 1024 },
  hour_of_day: { type: 'byte' },
  writeStatus: { type: 'keyword' },
  writeReason: { type: 'keyword', ignore_above: 1024 },
  writtenAt: { type: 'date' },
  mediaType: { type: 'keyword' },
  estimatedWaitS: { type: 'float' },
} as const satisfies FieldMappingsFor<StoredDecision>;

/**
 * The index mapping: exactly DECISION_FIELDS, and `dynamic: strict`, so a document with a field the mapping does not
 * know is refused (`strict_dynamic_mapping_exception`, that report job fails with the reason) instead of being
 * silently stored unsearchable or with a guessed type.
 */
export const DECISION_MAPPINGS: estypes.MappingTypeMapping = {
  dynamic: 'strict',
  properties: DECISION_FIELDS,
};

/**
 * The index template: `genesys_flow_decisions` (the name users query) gets these settings and mappings when it is
 * created. The store's `init()` PUTs it at every start, in tests and in docker-compose alike (there is no second
 * copy of it; tests/unit/compose.test.ts checks compose leaves it to the workers).
 */
export function indexTemplate(index: string): estypes.IndicesPutIndexTemplateRequest {
  return {
    name: index,
    index_patterns: [index],
    priority: 200,
    template: { settings: { number_of_shards: 1 }, mappings: DECISION_MAPPINGS },
    _meta: { description: 'IVR routing decisions (@ivr/reporting)' },
  };
}

/** The document sent for one decision: the record and its derived fields (hour of day from the timestamp, UTC). */
export function toStoredDecision(doc: DecisionDoc): StoredDecision {
  return { ...doc, hour_of_day: new Date(doc.timestamp).getUTCHours() };
}

/** The decision as the rest of the system knows it: the stored document without the fields derived at write time. */
export function fromStoredDecision(stored: StoredDecision): DecisionDoc {
  const { hour_of_day: _derived, ...doc } = stored;
  return doc;
}

/** Terms size for DTMF rows; beyond it the remainder is folded into an "(other)" row so totals stay exact. */
const DTMF_TERMS_SIZE = 1000;
export const OTHER_DTMF_ROW = '(other)';

const byRoute = { terms: { field: 'routing_decision', size: 10 } } as const;

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

interface KeyedBucket {
  key: string | number;
  key_as_string?: string;
  doc_count: number;
  by_route?: { buckets: Array<{ key: string | number; doc_count: number }>; sum_other_doc_count?: number };
}

function foldBuckets(tally: Tally, buckets: readonly KeyedBucket[] | undefined, rowOf: (b: KeyedBucket) => string): void {
  for (const b of buckets ?? []) {
    const row = rowOf(b);
    for (const r of b.by_route?.buckets ?? []) tally.add(row, String(r.key), r.doc_count);
  }
}

function isConnectionError(err: unknown): boolean {
  return err instanceof errors.ConnectionError || err instanceof errors.NoLivingConnectionsError || err instanceof errors.TimeoutError;
}

function errorStatus(err: unknown): number | undefined {
  return err instanceof errors.ResponseError ? err.statusCode : undefined;
}

function isRetryableStatus(status: number | undefined): boolean {
  return status === 429 || (status !== undefined && status >= 500);
}

/** A failed whole request: unreachable, 429 or 5xx → StoreUnavailableError (retry); anything else as it is. */
export function storeError(err: unknown, what: string): Error {
  if (isConnectionError(err) || isRetryableStatus(errorStatus(err))) {
    const msg = err instanceof Error ? err.message : String(err);
    return new StoreUnavailableError(`Elasticsearch unavailable (${what}): ${msg}`, { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}

function describeError(error: estypes.ErrorCause | undefined, status: number): string {
  if (!error) return `status ${status}`;
  const cause = error.caused_by?.reason ? ` (caused by: ${error.caused_by.reason})` : '';
  return `${error.type}: ${error.reason ?? ''}${cause}`;
}

/**
 * The Elasticsearch decision store. One `_bulk` per batch (create ops, `_id` = decisionId, so a re-write is a
 * 409 = duplicate), one `_search` per heatmap (size 0, aggregations only), one `_count` per count.
 */
export function createElasticsearchStore(opts: ElasticsearchStoreOptions): DecisionStore {
  const index = opts.index ?? DEFAULT_INDEX;
  const ownsClient = !opts.client;
  const client =
    opts.client ??
    new Client({
      node: opts.node,
      // No client-side retries: a failed batch fails its report jobs, and BullMQ retries them with backoff
      // (with the client's default 3 retries, a refused connection took ~7 s per call before failing).
      maxRetries: 0,
      ...(opts.apiKey ? { auth: { apiKey: opts.apiKey } } : opts.username ? { auth: { username: opts.username, password: opts.password ?? '' } } : {}),
    });
  let requests = 0;

  async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    requests++;
    try {
      return await fn();
    } catch (err) {
      throw storeError(err, what);
    }
  }

  return {
    kind: 'elasticsearch',
    index,

    async init() {
      // Always (re)put the template: it is this code's mapping, and a PUT of the same body is idempotent.
      await call('index template', () => client.indices.putIndexTemplate(indexTemplate(index)));
      try {
        await call('create index', () => client.indices.create({ index }));
      } catch (err) {
        const type = (err as { body?: { error?: { type?: string } } })?.body?.error?.type ?? (err as { cause?: { body?: { error?: { type?: string } } } }).cause?.body?.error?.type;
        if (type !== 'resource_already_exists_exception') throw err;
        // A template only applies when an index is created: add fields this version maps to the existing index
        // (adding is allowed; a changed type is refused, with Elasticsearch's reason).
        await call('update mapping', () => client.indices.putMapping({ index, ...DECISION_MAPPINGS }));
      }
    },

    async writeBatch(docs: readonly DecisionDoc[]): Promise<WriteResult> {
      const result: WriteResult = { written: 0, duplicates: 0, failed: [] };
      const valid: DecisionDoc[] = [];
      for (const doc of docs) {
        const invalid = invalidDocReason(doc);
        if (invalid) result.failed.push({ decisionId: String(doc?.decisionId ?? ''), reason: invalid, retryable: false });
        else valid.push(doc);
      }
      if (valid.length === 0) return result;
      const operations: Array<Record<string, unknown> | StoredDecision> = [];
      for (const doc of valid) operations.push({ create: { _id: doc.decisionId } }, toStoredDecision(doc));
      const res = await call('bulk', () =>
        client.bulk({ index, operations, ...(opts.refresh !== undefined && opts.refresh !== false ? { refresh: opts.refresh } : {}) }),
      );
      res.items.forEach((item, i) => {
        const doc = valid[i];
        const op = item.create ?? item.index;
        if (!doc || !op) return;
        if (op.status >= 200 && op.status < 300 && !op.error) {
          result.written++;
        } else if (op.status === 409 || op.error?.type === 'version_conflict_engine_exception') {
          result.duplicates++;
        } else {
          const retryable = isRetryableStatus(op.status) || op.error?.type === 'es_rejected_execution_exception';
          result.failed.push({ decisionId: doc.decisionId, reason: describeError(op.error, op.status), retryable });
        }
      });
      return result;
    },

    async recordWriteOutcomes(outcomes: readonly WriteOutcome[]): Promise<WriteOutcomesResult> {
      const result: WriteOutcomesResult = { updated: 0, failed: [] };
      if (outcomes.length === 0) return result;
      // One `_bulk` of partial-document updates by `_id` (= decisionId). Absent fields are sent as null so a later
      // outcome replaces an earlier one (a `written` after a manual retry clears the failure's writeReason).
      const operations: Array<Record<string, unknown>> = [];
      for (const o of outcomes) {
        operations.push({ update: { _id: o.decisionId } }, { doc: { writeStatus: o.writeStatus, writeReason: o.writeReason ?? null, writtenAt: o.writtenAt ?? null } });
      }
      const res = await call('bulk', () =>
        client.bulk({ index, operations, ...(opts.refresh !== undefined && opts.refresh !== false ? { refresh: opts.refresh } : {}) }),
      );
      res.items.forEach((item, i) => {
        const o = outcomes[i];
        const op = item.update;
        if (!o || !op) return;
        if (op.status >= 200 && op.status < 300 && !op.error) {
          result.updated++;
        } else if (op.status === 404 || op.error?.type === 'document_missing_exception') {
          // The decision's own report job may not have stored it yet: retry.
          result.failed.push({ decisionId: o.decisionId, reason: `decision ${o.decisionId} is not stored yet (${describeError(op.error, op.status)})`, retryable: true });
        } else {
          const retryable = isRetryableStatus(op.status) || op.error?.type === 'es_rejected_execution_exception' || op.status === 409;
          result.failed.push({ decisionId: o.decisionId, reason: describeError(op.error, op.status), retryable });
        }
      });
      return result;
    },

    async heatmap(query?: HeatmapQuery): Promise<HeatmapData> {
      const q = rangeQuery(query);
      const plan = timeBucketPlan(query);
      const res = await call('search', () =>
        client.search({
          index,
          size: 0,
          track_total_hits: true,
          ignore_unavailable: true,
          query: q,
          aggs: heatmapAggregations(plan),
        }),
      );
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
      };
    },

    async count(query?: HeatmapQuery): Promise<number> {
      const q = rangeQuery(query);
      const res = await call('count', () => client.count({ index, ignore_unavailable: true, query: q }));
      return res.count;
    },

    async getDecision(decisionId: string): Promise<DecisionDoc | null> {
      try {
        const res = await call('get', () => client.get<StoredDecision>({ index, id: decisionId }));
        return res.found && res._source ? fromStoredDecision(res._source) : null;
      } catch (err) {
        if (errorStatus(err) === 404) return null; // not stored (or no index yet)
        throw err;
      }
    },

    requests: () => requests,

    async close() {
      if (ownsClient) await client.close();
    },
  };
}
