import { Client, errors } from '@elastic/elasticsearch';
import Mock, { type MockPattern } from '@elastic/elasticsearch-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createElasticsearchStore } from './elasticsearch-store';
import { makeDoc } from './fixtures';
import { describeStoreSource } from './heatmap-html';
import { HOURS } from './matrix';
import { StoreUnavailableError, type DecisionStore, type HeatmapData } from './store';

const INDEX = 'genesys_flow_decisions';

let mock: Mock;
let seen: MockPattern[];
let store: DecisionStore;

function responseError(statusCode: number, body: unknown) {
  return new errors.ResponseError({ body, statusCode, headers: {}, warnings: null, meta: {} as never });
}

/** Register a route that records every request it answers. */
function route(method: string, path: string, answer: (p: MockPattern) => Record<string, unknown> | string) {
  mock.add({ method, path }, (p) => {
    seen.push(p);
    return answer(p);
  });
}

beforeEach(() => {
  mock = new Mock();
  seen = [];
  const client = new Client({ node: 'http://localhost:9200', Connection: mock.getConnection(), maxRetries: 0 });
  store = createElasticsearchStore({ node: 'http://localhost:9200', client });
});

describe('elasticsearch store: init', () => {
  it('puts the index template only when missing, then creates the index', async () => {
    // HEAD /_index_template/... not registered → 404 → missing
    route('PUT', `/_index_template/${INDEX}`, () => ({ acknowledged: true }));
    route('PUT', `/${INDEX}`, () => ({ acknowledged: true, shards_acknowledged: true, index: INDEX }));
    await store.init();
    const put = seen.find((p) => p.path === `/_index_template/${INDEX}`);
    expect(put?.method).toBe('PUT');
    const body = put?.body as Record<string, any>;
    expect(body.index_patterns).toEqual([INDEX]);
    const props = body.template.mappings.properties;
    expect(body.template.mappings.dynamic).toBe(false);
    for (const f of ['dtmf', 'routing_decision', 'queueId', 'conversationId', 'participantId', 'flowInstanceId', 'decisionId', 'idempotencyKey', 'state', 'occupancySource']) {
      expect(props[f]).toEqual({ type: 'keyword' });
    }
    expect(props.timestamp).toEqual({ type: 'date' });
    for (const f of ['queue_occupancy', 'threshold', 'latencyMs', 'sequence']) expect(props[f]).toEqual({ type: 'integer' });
    expect(seen.some((p) => p.method === 'PUT' && p.path === `/${INDEX}`)).toBe(true);
    expect(store.requests()).toBe(3);
  });

  it('leaves an existing template alone and ignores resource_already_exists', async () => {
    route('HEAD', `/_index_template/${INDEX}`, () => ({}));
    route('PUT', `/_index_template/${INDEX}`, () => ({ acknowledged: true }));
    route('PUT', `/${INDEX}`, () =>
      responseError(400, {
        error: { type: 'resource_already_exists_exception', reason: `index [${INDEX}/abc] already exists`, index: INDEX },
        status: 400,
      }) as never,
    );
    await store.init();
    expect(seen.map((p) => `${p.method} ${p.path}`)).toEqual([`HEAD /_index_template/${INDEX}`, `PUT /${INDEX}`]);
  });

  it('rethrows other index-creation errors', async () => {
    route('HEAD', `/_index_template/${INDEX}`, () => ({}));
    route('PUT', `/${INDEX}`, () => responseError(403, { error: { type: 'security_exception', reason: 'action unauthorized' }, status: 403 }) as never);
    await expect(store.init()).rejects.toThrow(/security_exception|unauthorized/);
  });
});

describe('elasticsearch store: writeBatch', () => {
  it('sends ONE _bulk request of create ops with _id = decisionId', async () => {
    const docs = [makeDoc(1), makeDoc(2), makeDoc(3)];
    route('POST', `/${INDEX}/_bulk`, () => ({
      took: 3,
      errors: false,
      items: docs.map((d) => ({ create: { _index: INDEX, _id: d.decisionId, _version: 1, result: 'created', status: 201 } })),
    }));
    const res = await store.writeBatch(docs);
    expect(res).toEqual({ written: 3, duplicates: 0, failed: [] });
    expect(seen).toHaveLength(1);
    expect(store.requests()).toBe(1);
    const lines = seen[0]!.body as Record<string, unknown>[];
    expect(lines).toHaveLength(6);
    docs.forEach((d, i) => {
      expect(lines[2 * i]).toEqual({ create: { _id: d.decisionId } });
      expect(lines[2 * i + 1]).toEqual(d);
    });
  });

  it('maps per-item 409 → duplicate, 429 → retryable, 400 mapper_parsing → non-retryable with reason', async () => {
    const docs = [makeDoc(1), makeDoc(2), makeDoc(3), makeDoc(4), makeDoc(5)];
    route('POST', `/${INDEX}/_bulk`, () => ({
      took: 5,
      errors: true,
      items: [
        { create: { _index: INDEX, _id: 'd-1', _version: 1, result: 'created', status: 201 } },
        {
          create: {
            _index: INDEX,
            _id: 'd-2',
            status: 409,
            error: { type: 'version_conflict_engine_exception', reason: '[d-2]: version conflict, document already exists (current version [1])', index: INDEX, shard: '0' },
          },
        },
        {
          create: {
            _index: INDEX,
            _id: 'd-3',
            status: 429,
            error: { type: 'es_rejected_execution_exception', reason: 'rejected execution of coordinating operation' },
          },
        },
        {
          create: {
            _index: INDEX,
            _id: 'd-4',
            status: 400,
            error: {
              type: 'mapper_parsing_exception',
              reason: "failed to parse field [queue_occupancy] of type [integer] in document with id 'd-4'",
              caused_by: { type: 'number_format_exception', reason: 'For input string: "many"' },
            },
          },
        },
        { create: { _index: INDEX, _id: 'd-5', status: 503, error: { type: 'unavailable_shards_exception', reason: 'primary shard is not active' } } },
      ],
    }));
    const res = await store.writeBatch(docs);
    expect(res.written).toBe(1);
    expect(res.duplicates).toBe(1);
    expect(res.failed).toEqual([
      { decisionId: 'd-3', reason: expect.stringContaining('es_rejected_execution_exception'), retryable: true },
      { decisionId: 'd-4', reason: expect.stringContaining("failed to parse field [queue_occupancy]"), retryable: false },
      { decisionId: 'd-5', reason: expect.stringContaining('unavailable_shards_exception'), retryable: true },
    ]);
    expect(res.failed[1]!.reason).toContain('mapper_parsing_exception');
    expect(seen).toHaveLength(1);
  });

  it('rejects invalid docs locally and sends no request when nothing is valid', async () => {
    const res = await store.writeBatch([makeDoc(1, { routing_decision: 'route_to_mars' as never })]);
    expect(res).toEqual({ written: 0, duplicates: 0, failed: [{ decisionId: 'd-1', reason: expect.stringContaining('routing_decision'), retryable: false }] });
    expect(seen).toHaveLength(0);
    expect(store.requests()).toBe(0);
  });
});

/** A realistic aggregation response for 10 decisions: DTMF 1 and 2, hours 09 and 14. */
const SEARCH_RESPONSE = {
  took: 4,
  timed_out: false,
  _shards: { total: 1, successful: 1, skipped: 0, failed: 0 },
  hits: { total: { value: 10, relation: 'eq' }, max_score: null, hits: [] },
  aggregations: {
    by_dtmf: {
      doc_count_error_upper_bound: 0,
      sum_other_doc_count: 0,
      buckets: [
        { key: '1', doc_count: 5, by_route: { doc_count_error_upper_bound: 0, sum_other_doc_count: 0, buckets: [{ key: 'route_to_queue', doc_count: 4 }, { key: 'route_to_vm', doc_count: 1 }] } },
        { key: '2', doc_count: 5, by_route: { doc_count_error_upper_bound: 0, sum_other_doc_count: 0, buckets: [{ key: 'route_to_vm', doc_count: 3 }, { key: 'route_to_queue', doc_count: 2 }] } },
      ],
    },
    by_hour: {
      doc_count_error_upper_bound: 0,
      sum_other_doc_count: 0,
      buckets: [
        { key: 9, doc_count: 6, by_route: { doc_count_error_upper_bound: 0, sum_other_doc_count: 0, buckets: [{ key: 'route_to_queue', doc_count: 4 }, { key: 'route_to_vm', doc_count: 2 }] } },
        { key: 14, doc_count: 4, by_route: { doc_count_error_upper_bound: 0, sum_other_doc_count: 0, buckets: [{ key: 'route_to_queue', doc_count: 2 }, { key: 'route_to_vm', doc_count: 2 }] } },
      ],
    },
    by_agents: {
      buckets: [
        { key: '0', to: 1, doc_count: 3, by_route: { doc_count_error_upper_bound: 0, sum_other_doc_count: 0, buckets: [{ key: 'route_to_vm', doc_count: 3 }] } },
        { key: '1', from: 1, to: 2, doc_count: 0, by_route: { doc_count_error_upper_bound: 0, sum_other_doc_count: 0, buckets: [] } },
        { key: '2', from: 2, to: 3, doc_count: 1, by_route: { doc_count_error_upper_bound: 0, sum_other_doc_count: 0, buckets: [{ key: 'route_to_queue', doc_count: 1 }] } },
        { key: '3-4', from: 3, to: 5, doc_count: 3, by_route: { doc_count_error_upper_bound: 0, sum_other_doc_count: 0, buckets: [{ key: 'route_to_queue', doc_count: 2 }, { key: 'route_to_vm', doc_count: 1 }] } },
        { key: '5-9', from: 5, to: 10, doc_count: 3, by_route: { doc_count_error_upper_bound: 0, sum_other_doc_count: 0, buckets: [{ key: 'route_to_queue', doc_count: 3 }] } },
        { key: '10+', from: 10, doc_count: 0, by_route: { doc_count_error_upper_bound: 0, sum_other_doc_count: 0, buckets: [] } },
      ],
    },
    by_route: { doc_count_error_upper_bound: 0, sum_other_doc_count: 0, buckets: [{ key: 'route_to_queue', doc_count: 6 }, { key: 'route_to_vm', doc_count: 4 }] },
    agents_unknown: { doc_count: 0, by_route: { doc_count_error_upper_bound: 0, sum_other_doc_count: 0, buckets: [] as Array<{ key: string; doc_count: number }> } },
    latency: { values: { '50.0': 12, '99.0': 40.5 } },
    min_ts: { value: 1709283600000, value_as_string: '2024-03-01T09:00:00.000Z' },
    max_ts: { value: 1709389500000, value_as_string: '2024-03-02T14:25:00.000Z' },
  },
};

function hourCounts(cells: Record<string, [number, number]>): number[][] {
  return HOURS.map((h) => cells[h] ?? [0, 0]);
}

describe('elasticsearch store: heatmap', () => {
  it('sends ONE _search with size 0, a timestamp range filter and the aggregations', async () => {
    route('POST', `/${INDEX}/_search`, () => SEARCH_RESPONSE);
    await store.heatmap({ from: '2024-03-01T00:00:00Z', to: '2024-03-03T00:00:00Z' });
    expect(seen).toHaveLength(1);
    expect(store.requests()).toBe(1);
    const body = seen[0]!.body as Record<string, any>;
    expect(body.size).toBe(0);
    expect(body.track_total_hits).toBe(true);
    expect(body.query).toEqual({
      bool: { filter: [{ range: { timestamp: { gte: '2024-03-01T00:00:00.000Z', lt: '2024-03-03T00:00:00.000Z', format: 'strict_date_optional_time' } } }] },
    });
    expect(body.aggs.by_dtmf.terms.field).toBe('dtmf');
    expect(body.aggs.by_dtmf.aggs.by_route.terms.field).toBe('routing_decision');
    expect(body.runtime_mappings.hour_of_day.type).toBe('long');
    expect(body.aggs.by_hour.terms).toEqual({ field: 'hour_of_day', size: 24 });
    expect(body.aggs.by_agents.range.field).toBe('queue_occupancy');
    expect(body.aggs.by_agents.range.ranges.map((r: { key: string }) => r.key)).toEqual(['0', '1', '2', '3-4', '5-9', '10+']);
    expect(body.aggs.by_agents.aggs.by_route.terms.field).toBe('routing_decision');
    expect(body.aggs.min_ts).toEqual({ min: { field: 'timestamp' } });
    expect(body.aggs.max_ts).toEqual({ max: { field: 'timestamp' } });
    expect(JSON.stringify(body)).not.toContain('10000');
  });

  it('folds the aggregation response into exact HeatmapData', async () => {
    route('POST', `/${INDEX}/_search`, () => SEARCH_RESPONSE);
    const h = await store.heatmap();
    const cols = ['route_to_queue', 'route_to_vm'];
    const expected: HeatmapData = {
      total: 10,
      from: '2024-03-01T09:00:00.000Z',
      to: '2024-03-02T14:25:00.000Z',
      dtmfByRoute: { rows: ['1', '2'], cols, counts: [[4, 1], [2, 3]] },
      hourByRoute: { rows: [...HOURS], cols, counts: hourCounts({ '09': [4, 2], '14': [2, 2] }) },
      agentsByRoute: { rows: ['0', '1', '2', '3-4', '5-9', '10+'], cols, counts: [[0, 3], [0, 0], [1, 0], [2, 1], [3, 0], [0, 0]] },
      overTime: null,
      latency: { count: 10, p50: 12, p99: 40.5 },
    };
    expect(h).toEqual(expected);
    expect((seen[0]!.body as Record<string, any>).query).toEqual({ match_all: {} });
  });

  it('asks for a date_histogram sized to the range and folds it, with fail-open as an "unknown" agents row', async () => {
    const resp = structuredClone(SEARCH_RESPONSE);
    resp.aggregations.agents_unknown = { doc_count: 2, by_route: { doc_count_error_upper_bound: 0, sum_other_doc_count: 0, buckets: [{ key: 'route_to_queue', doc_count: 2 }] } };
    const t0 = Date.parse('2024-03-01T09:00:00Z');
    (resp.aggregations as Record<string, unknown>).over_time = {
      buckets: [
        { key: t0, key_as_string: '2024-03-01T09:00:00.000Z', doc_count: 3, by_route: { buckets: [{ key: 'route_to_queue', doc_count: 2 }, { key: 'route_to_vm', doc_count: 1 }] } },
        { key: t0 + 3600_000, key_as_string: '2024-03-01T10:00:00.000Z', doc_count: 0, by_route: { buckets: [] } },
      ],
    };
    route('POST', `/${INDEX}/_search`, () => resp);
    const h = await store.heatmap({ from: '2024-03-01T09:00:00Z', to: '2024-03-01T11:00:00Z', bucketMs: 3600_000 });
    const body = seen[0]!.body as Record<string, any>;
    expect(body.aggs.over_time.date_histogram).toEqual({
      field: 'timestamp',
      fixed_interval: '3600000ms',
      min_doc_count: 0,
      extended_bounds: { min: t0, max: t0 + 3600_000 },
    });
    expect(body.aggs.agents_unknown).toEqual({ missing: { field: 'queue_occupancy' }, aggs: { by_route: { terms: { field: 'routing_decision', size: 10 } } } });
    expect(body.aggs.latency).toEqual({ percentiles: { field: 'latencyMs', percents: [50, 99] } });
    expect(h.overTime).toEqual({ bucketMs: 3600_000, rows: ['2024-03-01T09:00:00.000Z', '2024-03-01T10:00:00.000Z'], cols: ['route_to_queue', 'route_to_vm'], counts: [[2, 1], [0, 0]] });
    expect(h.agentsByRoute.rows.at(-1)).toBe('unknown');
    expect(h.agentsByRoute.counts.at(-1)).toEqual([2, 0]);
  });

  it('keeps totals exact with an "(other)" DTMF row when terms are cut off', async () => {
    const resp = structuredClone(SEARCH_RESPONSE);
    resp.aggregations.by_dtmf.sum_other_doc_count = 5;
    resp.aggregations.by_dtmf.buckets = resp.aggregations.by_dtmf.buckets.slice(0, 1);
    route('POST', `/${INDEX}/_search`, () => resp);
    const h = await store.heatmap();
    expect(h.dtmfByRoute.rows).toEqual(['1', '(other)']);
    expect(h.dtmfByRoute.counts).toEqual([[4, 1], [2, 3]]);
  });

  it('returns the empty heatmap when nothing matches', async () => {
    route('POST', `/${INDEX}/_search`, () => ({
      took: 1,
      timed_out: false,
      _shards: { total: 1, successful: 1, skipped: 0, failed: 0 },
      hits: { total: { value: 0, relation: 'eq' }, max_score: null, hits: [] },
      aggregations: { min_ts: { value: null }, max_ts: { value: null } },
    }));
    const h = await store.heatmap();
    expect(h.total).toBe(0);
    expect(h.from).toBeNull();
    expect(h.dtmfByRoute.rows).toEqual([]);
    expect(h.hourByRoute.rows).toHaveLength(24);
  });

  it('counts with _count and the same range filter', async () => {
    route('POST', `/${INDEX}/_count`, () => ({ count: 7, _shards: { total: 1, successful: 1, skipped: 0, failed: 0 } }));
    expect(await store.count({ from: '2024-03-01T00:00:00Z' })).toBe(7);
    expect((seen[0]!.body as Record<string, any>).query).toEqual({
      bool: { filter: [{ range: { timestamp: { gte: '2024-03-01T00:00:00.000Z', format: 'strict_date_optional_time' } } }] },
    });
  });
});

describe('elasticsearch store: unavailability', () => {
  it('turns connection errors into StoreUnavailableError', async () => {
    const boom = () => new errors.ConnectionError('connect ECONNREFUSED 127.0.0.1:9200') as never;
    mock.add({ method: ['GET', 'POST', 'PUT', 'HEAD'], path: ['/_index_template/:name', `/${INDEX}/_bulk`, `/${INDEX}/_search`, `/${INDEX}/_count`] }, boom);
    await expect(store.init()).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.writeBatch([makeDoc(1)])).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.heatmap()).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.count()).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('turns a whole-request 503 / 429 into StoreUnavailableError', async () => {
    route('POST', `/${INDEX}/_search`, () => responseError(503, { error: { type: 'cluster_block_exception', reason: 'blocked' }, status: 503 }) as never);
    route('POST', `/${INDEX}/_bulk`, () => responseError(429, { error: { type: 'es_rejected_execution_exception', reason: 'queue full' }, status: 429 }) as never);
    await expect(store.heatmap()).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.writeBatch([makeDoc(1)])).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});

describe('store identity', () => {
  it('names its index, so the heatmap footer can say where the data comes from', async () => {
    const store = createElasticsearchStore({ node: 'http://127.0.0.1:9', index: 'decisions-test' });
    expect(store.index).toBe('decisions-test');
    expect(describeStoreSource(store)).toBe('Elasticsearch index decisions-test');
    await store.close();
  });
});

describe('elasticsearch store: getDecision', () => {
  it('GETs the document by _id = decisionId; 404 (document or index missing) is null', async () => {
    const doc = makeDoc(3, { queue_occupancy: null, occupancySource: 'fail_open' });
    route('GET', `/${INDEX}/_doc/d-3`, () => ({ _index: INDEX, _id: 'd-3', found: true, _source: doc }));
    route('GET', `/${INDEX}/_doc/d-4`, () => responseError(404, { _index: INDEX, _id: 'd-4', found: false }) as never);
    expect(await store.getDecision('d-3')).toEqual(doc);
    expect(await store.getDecision('d-4')).toBeNull();
    expect(seen.map((p) => p.path)).toEqual([`/${INDEX}/_doc/d-3`, `/${INDEX}/_doc/d-4`]);
  });
});
