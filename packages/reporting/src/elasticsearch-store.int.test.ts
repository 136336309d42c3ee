/**
 * The Elasticsearch store against a REAL node (bash scripts/elasticsearch.sh; .ci/run starts one and sets
 * ELASTICSEARCH_URL). Under CI=true these tests fail when no node answers; elsewhere they are skipped with the reason.
 * Every test uses its own index (and template of the same name), deleted afterwards.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { describeDecisionStoreContract } from './contract';
import { deleteElasticsearchDecisions } from './elasticsearch-admin';
import { OTHER_DTMF_ROW } from './elasticsearch-aggs';
import { DECISION_FIELDS, DECISION_MAPPINGS, indexTemplate } from './elasticsearch-mapping';
import { createElasticsearchStore } from './elasticsearch-store';
import { makeDoc } from './fixtures';
import { announceSkip, assertUsable, elasticsearchTarget, testClient } from './real-elasticsearch';
import { StoreUnavailableError, type DecisionDoc, type DecisionStore } from './store';

const target = await elasticsearchTarget();
announceSkip('elasticsearch store', target);
const runId = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
let n = 0;

/** A fresh index name (lower case, as Elasticsearch requires) and a store on it that refreshes after each bulk. */
function freshStore(admin: Client, opts: { refresh?: 'wait_for' | false } = {}): { store: DecisionStore; index: string; cleanup(): Promise<void> } {
  const index = `test-genesys_flow_decisions-${runId}-${n++}`;
  const store = createElasticsearchStore({ node: target.url!, index, client: admin, refresh: opts.refresh ?? 'wait_for' });
  return {
    store,
    index,
    async cleanup() {
      await admin.indices.delete({ index, ignore_unavailable: true });
      await admin.indices.deleteIndexTemplate({ name: index }).catch(() => undefined);
    },
  };
}

describe.runIf(target.run)('elasticsearch store against a real node', () => {
  let admin: Client;
  beforeAll(() => {
    if (target.problem) return;
    admin = testClient(target.url!);
    console.log(`[elasticsearch store] running against Elasticsearch ${target.version} at ${target.url}`);
  });
  // beforeEach, not beforeAll: under CI each test FAILS with the reason (a failed beforeAll reports them skipped)
  beforeEach(() => assertUsable(target));
  afterAll(async () => {
    await admin?.close();
  });

  describeDecisionStoreContract('elasticsearch (real node)', async () => {
    assertUsable(target);
    const c = testClient(target.url);
    const s = freshStore(c);
    return {
      store: s.store,
      async read(id: string) {
        const res = await admin.get<Record<string, unknown>>({ index: s.index, id }, { ignore: [404] });
        return res.found ? res._source : undefined;
      },
      async cleanup() {
        await s.cleanup();
        await c.close();
      },
    };
  });

  async function withStore(fn: (s: ReturnType<typeof freshStore>) => Promise<void>, opts?: { refresh?: 'wait_for' | false }): Promise<void> {
    const s = freshStore(admin, opts);
    try {
      await s.store.init();
      await fn(s);
    } finally {
      await s.store.close();
      await s.cleanup();
    }
  }

  it('passes the client product check and sends x-elastic-product', async () => {
    // @elastic/elasticsearch 8 refuses a server without this header (ProductNotSupportedError).
    const res = await admin.cluster.health({}, { meta: true });
    expect(res.headers['x-elastic-product']).toBe('Elasticsearch');
    expect(target.version).toMatch(/^8\.19\./);
  });

  it('creates the index from the template with exactly the mapping this code declares (dynamic: strict)', () =>
    withStore(async ({ index }) => {
      const got = await admin.indices.getMapping({ index });
      const mapping = got[index]!.mappings;
      expect(mapping.dynamic).toBe('strict');
      expect(mapping.properties).toEqual(DECISION_MAPPINGS.properties);
      // the "done when": DTMF and the route are keywords
      expect(mapping.properties?.dtmf).toEqual({ type: 'keyword' });
      expect(mapping.properties?.routing_decision).toEqual({ type: 'keyword' });
      const tpl = await admin.indices.getIndexTemplate({ name: index });
      const body = indexTemplate(index);
      expect(tpl.index_templates[0]!.index_template.index_patterns).toEqual(body.index_patterns);
      expect(tpl.index_templates[0]!.index_template.template?.mappings).toEqual(body.template!.mappings);
    }));

  it('adds newly mapped fields to an index created by an older mapping (init on an existing index)', async () => {
    const s = freshStore(admin);
    try {
      await admin.indices.create({ index: s.index, mappings: { dynamic: false, properties: { decisionId: { type: 'keyword' } } } });
      await s.store.init();
      const got = await admin.indices.getMapping({ index: s.index });
      expect(got[s.index]!.mappings.properties).toEqual(DECISION_MAPPINGS.properties);
      expect(got[s.index]!.mappings.dynamic).toBe('strict');
    } finally {
      await s.cleanup();
    }
  });

  it('fails init with Elasticsearch\'s reason, not as "unavailable", when the index cannot be created', async () => {
    // Upper case is not allowed in template (and index) names: a real 400, not a retryable outage.
    const index = `Test-Upper-${runId}`;
    const store = createElasticsearchStore({ node: target.url!, index, client: admin });
    try {
      const err = await store.init().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect(err).not.toBeInstanceOf(StoreUnavailableError);
      expect((err as Error).message).toMatch(/invalid_index_template_exception.*name must be lower cased/);
    } finally {
      await admin.indices.deleteIndexTemplate({ name: index }).catch(() => undefined);
    }
  });

  it('stores a record with every mapped field, and null occupancy', () =>
    withStore(async ({ store, index }) => {
      const full = {
        ...makeDoc(1, { reason: 'genesys timeout' }),
        writeStatus: 'written',
        writeReason: 'x'.repeat(2000), // over ignore_above: kept in _source, not indexed, not refused
        writtenAt: '2024-03-01T00:00:05.000Z',
        mediaType: 'voice',
        estimatedWaitS: 12.5,
      } as DecisionDoc;
      // every field of the record is a mapped field (and the mapping has nothing else but derived/anticipated ones)
      for (const k of Object.keys(full)) expect(Object.keys(DECISION_FIELDS), k).toContain(k);
      expect(await store.writeBatch([full])).toEqual({ written: 1, duplicates: 0, failed: [] });
      // Occupancy unknown (fail-open) is stored as null: the mapping must accept it (written straight to the index,
      // as the store's own validation is the caller's business).
      await admin.create({ index, id: 'd-2', document: { ...makeDoc(2), queue_occupancy: null, hour_of_day: 0 }, refresh: 'wait_for' });
      expect(await store.count()).toBe(2);
      const got = await admin.get<Record<string, unknown>>({ index, id: 'd-1' });
      expect(got._source).toMatchObject({ writeStatus: 'written', mediaType: 'voice', estimatedWaitS: 12.5, hour_of_day: 0 });
    }));

  it('handles a _bulk answer per item: mapping rejections fail with the reason, the rest is stored', () =>
    withStore(async ({ store }) => {
      await store.writeBatch([makeDoc(3)]);
      const unknownField = { ...makeDoc(1), colour: 'blue' } as DecisionDoc;
      const wrongType = makeDoc(2, { sequence: 'first' as unknown as number });
      const res = await store.writeBatch([unknownField, wrongType, makeDoc(3), makeDoc(4), makeDoc(5)]);
      expect(res.written).toBe(2);
      expect(res.duplicates).toBe(1);
      expect(res.failed).toEqual([
        { decisionId: 'd-1', reason: expect.stringMatching(/^strict_dynamic_mapping_exception: .*\[colour\]/), retryable: false },
        { decisionId: 'd-2', reason: expect.stringMatching(/^document_parsing_exception|^mapper_parsing_exception/), retryable: false },
      ]);
      expect(res.failed[1]!.reason).toContain('[sequence]');
      expect(await store.count()).toBe(3);
    }));

  it('marks per-item 429 (flood-stage block) as retryable, and stores the items once the block is lifted', () =>
    withStore(async ({ store, index }) => {
      await admin.indices.putSettings({ index, settings: { 'index.blocks.read_only_allow_delete': true } });
      try {
        const res = await store.writeBatch([makeDoc(1), makeDoc(2)]);
        expect(res.written).toBe(0);
        expect(res.failed).toEqual([
          { decisionId: 'd-1', reason: expect.stringContaining('cluster_block_exception'), retryable: true },
          { decisionId: 'd-2', reason: expect.stringContaining('cluster_block_exception'), retryable: true },
        ]);
      } finally {
        await admin.indices.putSettings({ index, settings: { 'index.blocks.read_only_allow_delete': null } });
      }
      expect(await store.writeBatch([makeDoc(1), makeDoc(2)])).toEqual({ written: 2, duplicates: 0, failed: [] });
      expect(await store.count()).toBe(2);
    }));

  it('reads with aggregations only: one _search with size 0 per heatmap', () =>
    withStore(async ({ store }) => {
      await store.writeBatch(Array.from({ length: 30 }, (_, i) => makeDoc(i)));
      const bodies: unknown[] = [];
      const onRequest = (_e: unknown, ev: { meta: { request: { params: { path: string; body?: unknown } } } } | null) => {
        if (ev?.meta.request.params.path.endsWith('/_search')) bodies.push(ev.meta.request.params.body);
      };
      admin.diagnostic.on('request', onRequest as never);
      try {
        const h = await store.heatmap();
        expect(h.total).toBe(30);
      } finally {
        admin.diagnostic.off('request', onRequest as never);
      }
      expect(bodies).toHaveLength(1);
      const body = JSON.parse(String(bodies[0])) as { size: number; aggs: object };
      expect(body.size).toBe(0);
      expect(Object.keys(body.aggs)).toEqual(expect.arrayContaining(['by_dtmf', 'by_hour', 'by_agents']));
    }));

  it('keeps totals exact with an "(other)" DTMF row beyond 1,000 distinct DTMF strings', () =>
    withStore(async ({ store }) => {
      const docs = Array.from({ length: 1003 }, (_, i) => makeDoc(i, { dtmf: `9${String(i).padStart(4, '0')}`, routing_decision: i % 2 ? 'route_to_vm' : 'route_to_queue' }));
      expect((await store.writeBatch(docs)).written).toBe(1003);
      const h = await store.heatmap();
      expect(h.total).toBe(1003);
      expect(h.dtmfByRoute.rows).toHaveLength(1001);
      expect(h.dtmfByRoute.rows.at(-1)).toBe(OTHER_DTMF_ROW);
      expect(h.dtmfByRoute.counts.flat().reduce((a, b) => a + b, 0)).toBe(1003);
    }));

  it('deletes exactly the given decisions (pnpm demo clearing its own earlier run)', () =>
    withStore(async ({ store, index }) => {
      await store.writeBatch([makeDoc(1), makeDoc(2), makeDoc(3)]);
      const cfg = { elasticsearchUrl: target.url!, elasticsearchIndex: index };
      expect(await deleteElasticsearchDecisions(cfg, ['d-1', 'd-3', 'd-404'])).toBe(2);
      expect(await store.count()).toBe(1);
      expect(await deleteElasticsearchDecisions({ ...cfg, elasticsearchIndex: `${index}-missing` }, ['d-2'])).toBe(0);
    }));

  it('counts what a bulk without refresh wrote only after a refresh (no instant visibility)', () =>
    withStore(
      async ({ store, index }) => {
        await store.writeBatch([makeDoc(1), makeDoc(2)]);
        // Whether the documents are visible before a refresh is timing (refresh_interval 1 s): not asserted.
        await admin.indices.refresh({ index });
        expect(await store.count()).toBe(2);
      },
      { refresh: false },
    ));
});

describe('elasticsearch store: unreachable node', () => {
  it('turns connection refused into StoreUnavailableError for every operation', async () => {
    // A port that was just free: nothing listens there.
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const store = createElasticsearchStore({ node: `http://127.0.0.1:${port}` });
    try {
      for (const op of [() => store.init(), () => store.writeBatch([makeDoc(1)]), () => store.heatmap(), () => store.count()]) {
        await expect(op()).rejects.toBeInstanceOf(StoreUnavailableError);
      }
    } finally {
      await store.close();
    }
  });

  it('names its index, so the heatmap footer can say where the data comes from', async () => {
    const { describeStoreSource } = await import('./heatmap-html');
    const store = createElasticsearchStore({ node: 'http://127.0.0.1:9', index: 'decisions-test' });
    expect(store.index).toBe('decisions-test');
    expect(describeStoreSource(store)).toBe('Elasticsearch index decisions-test');
    await store.close();
  });
});
