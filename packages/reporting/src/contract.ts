import { describe, expect, it } from 'vitest';
import { ROUTES } from '@ivr/core';
import { expected, percentileBounds, withoutLatency } from './contract-expected';
import { describeWaitContract } from './contract-wait';
import { knownSet, makeDoc } from './fixtures';
import type { DecisionStore } from './store';

export { knownSet, makeDoc };

export interface StoreHandle {
  store: DecisionStore;
  /** Reads one stored decision document as the backend holds it (undefined when absent); for assertions only. */
  read(decisionId: string): Promise<Record<string, unknown> | undefined>;
  cleanup(): Promise<void>;
}

/** The DecisionStore contract: every implementation must pass it. `factory` gives a fresh, empty store each time. */
export function describeDecisionStoreContract(name: string, factory: () => Promise<StoreHandle>): void {
  describe(`DecisionStore contract: ${name}`, () => {
    async function withStore(fn: (store: DecisionStore, read: StoreHandle['read']) => Promise<void>): Promise<void> {
      const { store, cleanup, read } = await factory();
      try {
        await store.init();
        await store.init(); // idempotent
        await fn(store, read);
      } finally {
        await store.close();
        await cleanup();
      }
    }

    it('writes then counts', () =>
      withStore(async (store) => {
        const res = await store.writeBatch([makeDoc(1), makeDoc(2), makeDoc(3)]);
        expect(res).toEqual({ written: 3, duplicates: 0, failed: [] });
        expect(await store.count()).toBe(3);
      }));

    it('is idempotent per decisionId across batches and within one batch', () =>
      withStore(async (store) => {
        expect(await store.writeBatch([makeDoc(1), makeDoc(2)])).toEqual({ written: 2, duplicates: 0, failed: [] });
        // same ids again (even with other content): duplicates, nothing counted twice
        expect(await store.writeBatch([makeDoc(1, { dtmf: '9' }), makeDoc(2)])).toEqual({ written: 0, duplicates: 2, failed: [] });
        // twice in one batch
        expect(await store.writeBatch([makeDoc(3), makeDoc(3), makeDoc(4)])).toEqual({ written: 2, duplicates: 1, failed: [] });
        expect(await store.count()).toBe(4);
        const h = await store.heatmap();
        expect(h.total).toBe(4);
        expect(h.dtmfByRoute).toEqual({ rows: ['1'], cols: [...ROUTES], counts: [[4, 0]] });
      }));

    it('builds exact heatmap matrices for a known set', () =>
      withStore(async (store) => {
        const docs = knownSet();
        expect(await store.writeBatch(docs)).toEqual({ written: 37, duplicates: 0, failed: [] });
        const h = await store.heatmap();
        const e = expected(docs);
        expect(withoutLatency(h)).toEqual(e);
        // spot checks, independent of the helper
        expect(h.dtmfByRoute.rows).toEqual(['1', '2', '3', '4']);
        expect(h.dtmfByRoute.counts).toEqual([
          [6, 4],
          [6, 3],
          [6, 3],
          [6, 3],
        ]);
        expect(h.agentsByRoute.rows).toEqual(['0', '1', '2', '3-4', '5-9', '10+']);
        expect(h.hourByRoute.rows).toHaveLength(24);
        const sum = (m: number[][]) => m.flat().reduce((a, b) => a + b, 0);
        expect(sum(h.dtmfByRoute.counts)).toBe(37);
        expect(sum(h.hourByRoute.counts)).toBe(37);
        expect(sum(h.agentsByRoute.counts)).toBe(37);
        // the same with a range that covers everything
        expect(withoutLatency(await store.heatmap({ from: '2024-01-01T00:00:00Z', to: '2025-01-01T00:00:00Z' }))).toEqual(e);
      }));

    it('filters by time range exactly (from inclusive, to exclusive)', () =>
      withStore(async (store) => {
        const docs = knownSet();
        await store.writeBatch(docs);
        const from = '2024-03-02T00:00:00.000Z';
        const to = '2024-03-03T00:00:00.000Z';
        const inRange = docs.filter((d) => d.timestamp >= from && d.timestamp < to);
        expect(inRange.length).toBeGreaterThan(0);
        expect(await store.count({ from, to })).toBe(inRange.length);
        expect(withoutLatency(await store.heatmap({ from, to }))).toEqual(expected(inRange));
        // boundaries: a doc exactly at `from` is in, a doc exactly at `to` is out
        const first = docs[1]!; // 2024-03-02T05:01:00Z
        expect(await store.count({ from: first.timestamp, to: first.timestamp })).toBe(0);
        expect(await store.count({ from: first.timestamp, to: new Date(Date.parse(first.timestamp) + 1).toISOString() })).toBe(1);
        // open-ended ranges
        expect(await store.count({ from })).toBe(docs.filter((d) => d.timestamp >= from).length);
        expect(await store.count({ to })).toBe(docs.filter((d) => d.timestamp < to).length);
        // a range with nothing in it
        const none = await store.heatmap({ from: '2030-01-01T00:00:00Z' });
        expect(none.total).toBe(0);
        expect(none.from).toBeNull();
      }));

    it('counts fail-open decisions (queue_occupancy null) in their own "unknown" agents row', () =>
      withStore(async (store) => {
        const docs = [
          makeDoc(1, { queue_occupancy: null, occupancySource: 'fail_open', reason: 'Genesys 503; DEFAULT_ROUTE route_to_queue applied' }),
          makeDoc(2, { queue_occupancy: null, occupancySource: 'fail_open', routing_decision: 'route_to_vm' }),
          makeDoc(3, { queue_occupancy: 0 }),
        ];
        expect(await store.writeBatch(docs)).toEqual({ written: 3, duplicates: 0, failed: [] });
        for (const q of [undefined, { from: '2024-01-01T00:00:00Z', to: '2025-01-01T00:00:00Z' }]) {
          const h = await store.heatmap(q);
          expect(h.agentsByRoute.rows).toEqual(['0', '1', '2', '3-4', '5-9', '10+', 'unknown']);
          expect(h.agentsByRoute.counts[0]).toEqual([1, 0]); // the real 0 stays 0
          expect(h.agentsByRoute.counts[6]).toEqual([1, 1]);
          expect(withoutLatency(h)).toEqual(expected(docs));
        }
      }));

    it('buckets decisions over time, sized to the range, every bucket present (epoch-aligned, UTC)', () =>
      withStore(async (store) => {
        const docs = knownSet();
        await store.writeBatch(docs);
        const from = '2024-03-01T00:00:00.000Z';
        const to = '2024-03-02T00:00:00.000Z';
        const h = await store.heatmap({ from, to, bucketMs: 3600_000 });
        expect(h.overTime?.bucketMs).toBe(3600_000);
        expect(h.overTime?.rows).toHaveLength(24);
        expect(h.overTime?.rows[0]).toBe(from);
        const inRange = docs.filter((d) => d.timestamp >= from && d.timestamp < to);
        const want = new Map<string, number>();
        for (const d of inRange) {
          const k = `${d.timestamp.slice(0, 13)}:00:00.000Z|${d.routing_decision}`;
          want.set(k, (want.get(k) ?? 0) + 1);
        }
        const got = new Map<string, number>();
        h.overTime!.rows.forEach((r, i) => h.overTime!.cols.forEach((c, j) => (h.overTime!.counts[i]![j] ? got.set(`${r}|${c}`, h.overTime!.counts[i]![j]!) : undefined)));
        expect(got).toEqual(want);
        // too many buckets for the range: the bucket is widened (at most 500 buckets)
        const wide = await store.heatmap({ from: '2024-01-01T00:00:00Z', to: '2025-01-01T00:00:00Z', bucketMs: 60_000 });
        expect(wide.overTime!.rows.length).toBeLessThanOrEqual(500);
        expect(wide.overTime!.counts.flat().reduce((a, b) => a + b, 0)).toBe(docs.length);
        // empty range: the buckets are still there, all zero
        const none = await store.heatmap({ from: '2030-01-01T00:00:00Z', to: '2030-01-01T01:00:00Z', bucketMs: 900_000 });
        expect(none.overTime?.rows).toEqual(['2030-01-01T00:00:00.000Z', '2030-01-01T00:15:00.000Z', '2030-01-01T00:30:00.000Z', '2030-01-01T00:45:00.000Z']);
        expect(none.overTime?.counts.flat().every((n) => n === 0)).toBe(true);
        // no bucketMs, or an open range: no series
        expect((await store.heatmap({ from, to })).overTime).toBeNull();
        expect((await store.heatmap({ from, bucketMs: 3600_000 })).overTime).toBeNull();
      }));

    it('aggregates decision latency p50/p99 over a range', () =>
      withStore(async (store) => {
        const docs = Array.from({ length: 50 }, (_, i) => makeDoc(i, { latencyMs: (i * 37) % 200 }));
        await store.writeBatch(docs);
        const h = await store.heatmap({ from: '2024-01-01T00:00:00Z', to: '2025-01-01T00:00:00Z' });
        const lat = docs.map((d) => d.latencyMs);
        expect(h.latency?.count).toBe(50);
        const [lo50, hi50] = percentileBounds(lat, 0.5);
        const [lo99, hi99] = percentileBounds(lat, 0.99);
        expect(h.latency!.p50).toBeGreaterThanOrEqual(lo50);
        expect(h.latency!.p50).toBeLessThanOrEqual(hi50);
        expect(h.latency!.p99).toBeGreaterThanOrEqual(lo99);
        expect(h.latency!.p99).toBeLessThanOrEqual(hi99);
        expect((await store.heatmap({ from: '2030-01-01T00:00:00Z', to: '2030-01-02T00:00:00Z' })).latency).toBeNull();
      }));

    it('reads one stored decision back by id (null when not stored)', () =>
      withStore(async (store) => {
        const doc = makeDoc(7, { queue_occupancy: null, occupancySource: 'fail_open', reason: 'Genesys 503' });
        await store.writeBatch([doc, makeDoc(8)]);
        expect(await store.getDecision('d-7')).toEqual(doc);
        expect(await store.getDecision('d-unknown')).toBeNull();
      }));

    it('returns an empty heatmap for an empty store', () =>
      withStore(async (store) => {
        expect(await store.count()).toBe(0);
        const h = await store.heatmap();
        expect(h.total).toBe(0);
        expect(h.from).toBeNull();
        expect(h.to).toBeNull();
        expect(h.dtmfByRoute).toEqual({ rows: [], cols: [...ROUTES], counts: [] });
        expect(h.hourByRoute.rows).toHaveLength(24);
        expect(h.hourByRoute.counts.flat().every((n) => n === 0)).toBe(true);
        expect(h.agentsByRoute.rows).toEqual(['0', '1', '2', '3-4', '5-9', '10+']);
        expect(h.agentsByRoute.counts.flat().every((n) => n === 0)).toBe(true);
      }));

    it('writes a 2,000-document batch in one request', () =>
      withStore(async (store) => {
        const docs = Array.from({ length: 2000 }, (_, i) =>
          makeDoc(i, { dtmf: String(i % 10), routing_decision: i % 2 ? 'route_to_vm' : 'route_to_queue', queue_occupancy: i % 15 }),
        );
        const before = store.requests();
        expect(await store.writeBatch(docs)).toEqual({ written: 2000, duplicates: 0, failed: [] });
        expect(store.requests() - before).toBe(1);
        expect(await store.count()).toBe(2000);
        const h = await store.heatmap();
        expect(h.total).toBe(2000);
        expect(h.dtmfByRoute.rows).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
        expect(h.dtmfByRoute.counts).toEqual(Array.from({ length: 10 }, (_, d) => (d % 2 ? [0, 200] : [200, 0])));
      }));

    it('rejects an invalid document as non-retryable and stores the rest', () =>
      withStore(async (store) => {
        const bad = makeDoc(2, { timestamp: 'not a time' });
        const res = await store.writeBatch([makeDoc(1), bad]);
        expect(res.written).toBe(1);
        expect(res.failed).toHaveLength(1);
        expect(res.failed[0]).toMatchObject({ decisionId: 'd-2', retryable: false });
        expect(await store.count()).toBe(1);
      }));

    /** The outcome fields of a stored document (a null left by a partial update counts as absent). */
    const outcomeOf = (doc: Record<string, unknown> | undefined) =>
      Object.fromEntries(['writeStatus', 'writeReason', 'writtenAt'].filter((k) => doc?.[k] !== undefined && doc?.[k] !== null).map((k) => [k, doc![k]]));

    it('records write outcomes on stored decisions in one request; the decision fields stay as they were', () =>
      withStore(async (store, read) => {
        await store.writeBatch([makeDoc(1), makeDoc(2), makeDoc(3)]);
        const before = store.requests();
        const res = await store.recordWriteOutcomes([
          { decisionId: 'd-1', writeStatus: 'written', writtenAt: '2024-03-01T10:00:01.000Z' },
          { decisionId: 'd-2', writeStatus: 'failed', writeReason: 'conversation c-2 is unknown to Genesys (Genesys 404 not.found)' },
          { decisionId: 'd-3', writeStatus: 'skipped', writeReason: 'superseded by a later key press' },
        ]);
        expect(res).toEqual({ updated: 3, failed: [] });
        expect(store.requests() - before).toBe(1);
        expect(outcomeOf(await read('d-1'))).toEqual({ writeStatus: 'written', writtenAt: '2024-03-01T10:00:01.000Z' });
        expect(outcomeOf(await read('d-2'))).toEqual({ writeStatus: 'failed', writeReason: 'conversation c-2 is unknown to Genesys (Genesys 404 not.found)' });
        expect(outcomeOf(await read('d-3'))).toEqual({ writeStatus: 'skipped', writeReason: 'superseded by a later key press' });
        const doc = await read('d-2');
        const { decisionId, dtmf, routing_decision, queue_occupancy, timestamp } = makeDoc(2);
        expect(doc).toMatchObject({ decisionId, dtmf, routing_decision, queue_occupancy, timestamp });
        expect(await store.count()).toBe(3);
      }));

    it('a decision written with its outcome (a write settled in-call) is stored with it; a later outcome still replaces it', () =>
      withStore(async (store, read) => {
        const settled = { ...makeDoc(1), writeStatus: 'skipped' as const, writeReason: 'skipped: the decision was delivered in the synchronous answer (Prefer: wait)' };
        expect(await store.writeBatch([settled, makeDoc(2)])).toMatchObject({ written: 2, failed: [] });
        expect(outcomeOf(await read('d-1'))).toEqual({ writeStatus: 'skipped', writeReason: settled.writeReason });
        expect(outcomeOf(await read('d-2'))).toEqual({});
        expect(await store.getDecision('d-1')).toMatchObject({ decisionId: 'd-1', writeStatus: 'skipped' });
        await store.recordWriteOutcomes([{ decisionId: 'd-1', writeStatus: 'written', writtenAt: '2024-03-01T10:05:00.000Z' }]);
        expect(outcomeOf(await read('d-1'))).toEqual({ writeStatus: 'written', writtenAt: '2024-03-01T10:05:00.000Z' });
      }));

    it('a later outcome replaces the earlier one (a failed write retried by hand, then written)', () =>
      withStore(async (store, read) => {
        await store.writeBatch([makeDoc(1)]);
        await store.recordWriteOutcomes([{ decisionId: 'd-1', writeStatus: 'failed', writeReason: 'Genesys 404' }]);
        expect(await store.recordWriteOutcomes([{ decisionId: 'd-1', writeStatus: 'written', writtenAt: '2024-03-01T10:05:00.000Z' }])).toEqual({ updated: 1, failed: [] });
        expect(outcomeOf(await read('d-1'))).toEqual({ writeStatus: 'written', writtenAt: '2024-03-01T10:05:00.000Z' });
      }));

    it('an outcome for a decision not stored yet is a retryable failure; the others are recorded', () =>
      withStore(async (store, read) => {
        await store.writeBatch([makeDoc(1)]);
        const res = await store.recordWriteOutcomes([
          { decisionId: 'd-404', writeStatus: 'expired', writeReason: 'the call ended before the write' },
          { decisionId: 'd-1', writeStatus: 'written', writtenAt: '2024-03-01T10:00:01.000Z' },
        ]);
        expect(res.updated).toBe(1);
        expect(res.failed).toEqual([{ decisionId: 'd-404', reason: expect.stringContaining('d-404'), retryable: true }]);
        expect(await read('d-404')).toBeUndefined();
        expect(await store.count()).toBe(1);
        expect(outcomeOf(await read('d-1'))).toEqual({ writeStatus: 'written', writtenAt: '2024-03-01T10:00:01.000Z' });
        expect(await store.recordWriteOutcomes([])).toEqual({ updated: 0, failed: [] });
      }));

    describeWaitContract(withStore);
  });
}
