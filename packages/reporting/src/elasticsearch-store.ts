import { Client, errors, type estypes } from '@elastic/elasticsearch';
import { AGENT_BUCKETS, HOURS, Tally, compareDtmf, emptyHeatmap, invalidDocReason, parseTime } from './matrix';
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

/** Explicit mapping; unknown fields are kept in _source but not indexed (`dynamic: false`). */
export const DECISION_MAPPINGS: estypes.MappingTypeMapping = {
  dynamic: false,
  properties: {
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
  },
};

/** Terms size for DTMF rows; beyond it the remainder is folded into an "(other)" row so totals stay exact. */
const DTMF_TERMS_SIZE = 1000;
export const OTHER_DTMF_ROW = '(other)';

const byRoute = { terms: { field: 'routing_decision', size: 10 } } as const;

/** The runtime field giving the UTC hour of day (ES date doc values are UTC ZonedDateTime). */
export const HOUR_OF_DAY_RUNTIME: estypes.MappingRuntimeFields = {
  hour_of_day: {
    type: 'long',
    script: { source: "if (doc['timestamp'].size() != 0) { emit(doc['timestamp'].value.getHour()); }" },
  },
};

/** The heatmap aggregations (one `_search`, `size: 0`). */
export function heatmapAggregations(): Record<string, estypes.AggregationsAggregationContainer> {
  return {
    by_dtmf: { terms: { field: 'dtmf', size: DTMF_TERMS_SIZE, order: { _key: 'asc' } }, aggs: { by_route: byRoute } },
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

function storeError(err: unknown, what: string): Error {
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
  const templateName = index;
  const ownsClient = !opts.client;
  const client =
    opts.client ??
    new Client({
      node: opts.node,
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
      const exists = await call('index template', () => client.indices.existsIndexTemplate({ name: templateName }));
      if (!exists) {
        await call('index template', () =>
          client.indices.putIndexTemplate({
            name: templateName,
            index_patterns: [index],
            priority: 200,
            template: { settings: { number_of_shards: 1 }, mappings: DECISION_MAPPINGS },
            _meta: { description: 'IVR routing decisions (@ivr/reporting)' },
          }),
        );
      }
      try {
        await call('create index', () => client.indices.create({ index }));
      } catch (err) {
        const type = (err as { body?: { error?: { type?: string } } })?.body?.error?.type ?? (err as { cause?: { body?: { error?: { type?: string } } } }).cause?.body?.error?.type;
        if (type !== 'resource_already_exists_exception') throw err;
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
      const operations: Array<Record<string, unknown>> = [];
      for (const doc of valid) operations.push({ create: { _id: doc.decisionId } }, { ...doc });
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
      const res = await call('search', () =>
        client.search({
          index,
          size: 0,
          track_total_hits: true,
          ignore_unavailable: true,
          query: q,
          runtime_mappings: HOUR_OF_DAY_RUNTIME,
          aggs: heatmapAggregations(),
        }),
      );
      const total = typeof res.hits.total === 'number' ? res.hits.total : (res.hits.total?.value ?? 0);
      if (total === 0) return emptyHeatmap();
      const aggs = (res.aggregations ?? {}) as Record<string, { buckets?: KeyedBucket[]; sum_other_doc_count?: number; value?: number | null }>;
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
      const minV = aggs.min_ts?.value;
      const maxV = aggs.max_ts?.value;
      return {
        total,
        from: typeof minV === 'number' ? new Date(minV).toISOString() : null,
        to: typeof maxV === 'number' ? new Date(maxV).toISOString() : null,
        dtmfByRoute: dtmf.toMatrix(undefined, (a, b) => (a === OTHER_DTMF_ROW ? 1 : b === OTHER_DTMF_ROW ? -1 : compareDtmf(a, b))),
        hourByRoute: hour.toMatrix(HOURS),
        agentsByRoute: agents.toMatrix(AGENT_BUCKETS),
      };
    },

    async count(query?: HeatmapQuery): Promise<number> {
      const q = rangeQuery(query);
      const res = await call('count', () => client.count({ index, ignore_unavailable: true, query: q }));
      return res.count;
    },

    requests: () => requests,

    async close() {
      if (ownsClient) await client.close();
    },
  };
}
