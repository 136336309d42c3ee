import { expect, it } from 'vitest';
import { expectedWait } from './contract-expected';
import { makeDoc } from './fixtures';
import type { DecisionDoc, DecisionStore } from './store';

type WithStore = (fn: (store: DecisionStore, read: (id: string) => Promise<Record<string, unknown> | undefined>) => Promise<void>) => Promise<void>;

const at = (day: number, hour: number, minute = 0) => new Date(Date.UTC(2024, 2, day, hour, minute)).toISOString();

/**
 * Decisions of a policy with maxEstimatedWaitS 90 on threshold 2: a figure only where the agents alone would route to
 * the queue; a real 0 s wait is a figure, not "no figure".
 */
export function waitSet(): DecisionDoc[] {
  return [
    makeDoc(1, { dtmf: '1', timestamp: at(1, 9), threshold: 2, queue_occupancy: 5, estimatedWaitS: 30, routing_decision: 'route_to_queue' }),
    makeDoc(2, { dtmf: '1', timestamp: at(1, 9, 30), threshold: 2, queue_occupancy: 6, estimatedWaitS: 95.5, routing_decision: 'route_to_vm' }),
    makeDoc(3, { dtmf: '1', timestamp: at(1, 10), threshold: 2, queue_occupancy: 1, routing_decision: 'route_to_vm' }),
    makeDoc(4, { dtmf: '2', timestamp: at(2, 9), threshold: 2, queue_occupancy: null, occupancySource: 'fail_open', routing_decision: 'route_to_queue' }),
    makeDoc(5, { dtmf: '2', timestamp: at(2, 23), threshold: 2, queue_occupancy: 3, estimatedWaitS: 0, routing_decision: 'route_to_queue' }),
    makeDoc(6, { dtmf: '3', timestamp: at(3, 10), threshold: 2, queue_occupancy: 4, estimatedWaitS: 200, routing_decision: 'route_to_vm' }),
    makeDoc(7, { dtmf: '3', timestamp: at(3, 10, 5), threshold: 2, queue_occupancy: 4, routing_decision: 'route_to_queue', reason: 'estimated wait unavailable: Genesys 503; routed on available agents alone' }),
  ];
}

/** The estimated-wait part of the DecisionStore contract (issue 19), and reading records written before it. */
export function describeWaitContract(withStore: WithStore): void {
  it('aggregates estimated wait per DTMF × hour: mean, decisions without a figure as such, the wait rule count', () =>
    withStore(async (store) => {
      const docs = waitSet();
      expect(await store.writeBatch(docs)).toEqual({ written: docs.length, duplicates: 0, failed: [] });
      for (const q of [undefined, { from: '2024-03-01T00:00:00Z', to: '2024-03-04T00:00:00Z' }]) {
        const w = (await store.heatmap(q)).wait;
        expect(w).toEqual(expectedWait(docs));
        // spot checks, independent of the helper
        expect(w.rows).toEqual(['1', '2', '3']);
        expect(w.meanS[0]![9]).toBe(62.8); // (30 + 95.5) / 2
        expect(w.meanS[0]![10]).toBeNull(); // one decision, below the threshold: no figure, not 0
        expect(w.decisions[0]![10]).toBe(1);
        expect(w.meanS[1]![9]).toBeNull(); // fail-open: no figure
        expect(w.meanS[1]![23]).toBe(0); // a real 0 s wait
        expect(w.routedByWait[2]![10]).toBe(1);
        expect(w.totals).toEqual({ decisions: 7, withFigure: 4, withoutFigure: 3, routedByWait: 2, meanS: 81.4 });
      }
      // a range holding only day 3
      const day3 = (await store.heatmap({ from: '2024-03-03T00:00:00Z', to: '2024-03-04T00:00:00Z' })).wait;
      expect(day3).toEqual(expectedWait(docs.filter((d) => d.timestamp.startsWith('2024-03-03'))));
      expect(day3.totals).toMatchObject({ decisions: 2, withFigure: 1, routedByWait: 1, meanS: 200 });
    }));

  it('an empty range has an empty wait view (every hour column, no rows)', () =>
    withStore(async (store) => {
      await store.writeBatch(waitSet());
      const w = (await store.heatmap({ from: '2030-01-01T00:00:00Z', to: '2030-01-02T00:00:00Z' })).wait;
      expect(w.rows).toEqual([]);
      expect(w.cols).toHaveLength(24);
      expect(w.totals).toEqual({ decisions: 0, withFigure: 0, withoutFigure: 0, routedByWait: 0, meanS: null });
    }));

  it("reads a decision stored with the old source name 'live' as 'poll'", () =>
    withStore(async (store, read) => {
      // As a worker of the previous version stored it (a polled reading was called `live`).
      const legacy = { ...makeDoc(1), occupancySource: 'live' } as unknown as DecisionDoc;
      await store.writeBatch([legacy, makeDoc(2, { occupancySource: 'notification' })]);
      expect((await read('d-1'))?.occupancySource).toBe('live'); // stored as it was written
      expect(await store.getDecision('d-1')).toEqual({ ...makeDoc(1), occupancySource: 'poll' });
      expect((await store.getDecision('d-2'))?.occupancySource).toBe('notification');
    }));
}
