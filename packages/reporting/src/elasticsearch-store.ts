import { Client } from '@elastic/elasticsearch';
import { heatmapAggregations, heatmapFromResponse, rangeQuery } from './elasticsearch-aggs';
import { describeError, errorStatus, isRetryableStatus, storeError } from './elasticsearch-errors';
import { DECISION_MAPPINGS, fromStoredDecision, indexTemplate, toStoredDecision, type StoredDecision } from './elasticsearch-mapping';
import { invalidDocReason, timeBucketPlan } from './matrix';
import type { DecisionDoc, DecisionStore, HeatmapData, HeatmapQuery, WriteOutcome, WriteOutcomesResult, WriteResult } from './store';

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
      return heatmapFromResponse(res, query, plan);
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
