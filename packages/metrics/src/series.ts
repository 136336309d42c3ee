import type { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * What each group of series gets from createMetrics. Series are built with `registers: ctx.unregistered` and enter
 * the process's registry when the process wires or uses them (`ctx.enable`), so each process exports only its own
 * series: no worker counters reading 0 on the receiver (issue 17).
 */
export interface SeriesContext {
  /** Adds the series to the process's registry, once (a series already added is skipped). */
  enable(...metrics: Array<Counter | Gauge | Histogram>): void;
  /** No registry: the `registers` of a series only `enable` adds. */
  unregistered: Registry[];
  now: () => number;
}
