import type { Logger } from 'pino';
import { throttle } from '@ivr/pipeline';
import { writeHeatmapFile, type DecisionStore } from '@ivr/reporting';

/** At most one heatmap file regeneration per this interval, whatever the rate of report batches. */
export const HEATMAP_REGENERATION_MS = 2000;

/**
 * The heatmap regeneration policy: after each stored report batch, `reports/heatmap.html` (REPORTS_DIR) is rewritten
 * from the store, throttled to one run per HEATMAP_REGENERATION_MS (`throttle`: calls in between coalesce into one run, so
 * the last batch is never missed; `flush()` at shutdown runs a pending one). A failure is logged and the next batch tries again.
 */
export function heatmapRegeneration(store: DecisionStore, reportsDir: string, logger: Logger) {
  return throttle(
    async () => {
      const r = await writeHeatmapFile(store, reportsDir);
      logger.debug({ path: r.path, decisions: r.decisions }, 'heatmap regenerated');
    },
    HEATMAP_REGENERATION_MS,
    (e) => logger.warn({ err: e.message }, 'heatmap regeneration failed'),
  );
}
