import { Counter, Histogram } from 'prom-client';
import type { SeriesContext } from './series';

/** The counters of @ivr/pipeline's OccupancyStats (structurally; this package does not depend on @ivr/pipeline). */
export interface OccupancyCounters {
  analyticsCalls: number;
  cacheHits: number;
  waitedForPeer: number;
  failOpen: number;
}

/** The counters of @ivr/pipeline's BatchStats (structurally) that the store series read. */
export interface BatchCounters {
  written: number;
  duplicates: number;
  failed: number;
}

/** Workers: the occupancy cache's and the report batcher's counters (read at scrape time), decision-store batch sizes. */
export function storeSeries({ enable, unregistered }: SeriesContext) {
  const occupancy: Array<() => OccupancyCounters> = [];
  const sumOcc = (k: keyof OccupancyCounters) => occupancy.reduce((n, s) => n + s()[k], 0);
  const fromStats = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: unregistered,
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  const occupancySeries = [
    fromStats('ivr_occupancy_analytics_calls_total', 'Genesys analytics (queue observations) queries made by this process', () => sumOcc('analyticsCalls')),
    fromStats('ivr_occupancy_cache_hits_total', 'Occupancy readings served from the shared Redis cache without an API call', () => sumOcc('cacheHits')),
    fromStats('ivr_occupancy_waited_for_peer_total', "Occupancy readings that waited for another process's in-flight query (single flight)", () => sumOcc('waitedForPeer')),
    fromStats('ivr_occupancy_fail_open_total', 'Occupancy readings Genesys could not answer (DEFAULT_ROUTE applied)', () => sumOcc('failOpen')),
  ];

  const batchers: Array<() => BatchCounters> = [];
  const storeDocs = new Counter({
    name: 'ivr_store_documents_total',
    help: 'Decision documents sent to the decision store, by result (written, duplicate, failed)',
    labelNames: ['result'],
    registers: unregistered,
    collect() {
      this.reset();
      const s = batchers.map((b) => b());
      this.inc({ result: 'written' }, s.reduce((n, x) => n + x.written, 0));
      this.inc({ result: 'duplicate' }, s.reduce((n, x) => n + x.duplicates, 0));
      this.inc({ result: 'failed' }, s.reduce((n, x) => n + x.failed, 0));
    },
  });
  const batchSizes = new Histogram({
    name: 'ivr_store_batch_size',
    help: 'Documents per decision-store batch (_bulk request or embedded-store round trip)',
    buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 5000],
    registers: unregistered,
  });

  return {
    watchOccupancy(stats: () => OccupancyCounters) {
      enable(...occupancySeries);
      occupancy.push(stats);
    },
    watchBatcher(stats: () => BatchCounters) {
      enable(storeDocs, batchSizes);
      batchers.push(stats);
    },
    observeBatch(size: number) {
      enable(batchSizes);
      batchSizes.observe(size);
    },
  };
}
