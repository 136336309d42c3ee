/**
 * Nearest-rank percentile `p` (0–100) of values sorted ascending: the smallest value with at least p % of the values
 * at or below it; 0 for no values. One definition for the CLI's replay summary, the dashboard's write lag and the
 * embedded decision store's latency.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
