/** The `wait` preference of an RFC 7240 `Prefer` header, in ms, capped at `maxMs`; 0 when absent or invalid. */
export function preferWaitMs(header: string | undefined, maxMs = 10_000): number {
  if (!header) return 0;
  const m = /(?:^|[,;\s])wait\s*=\s*"?(\d{1,6}(?:\.\d+)?)"?/i.exec(header);
  if (!m) return 0;
  return Math.min(Math.round(Number(m[1]) * 1000), maxMs);
}
