/**
 * The `Server-Timing` header (W3C Server Timing) of an answer that waited for its decision (`Prefer: wait`): where
 * the receiver's time went, per stage, in milliseconds. A caller (curl, the Genesys Data Action's test, `pnpm bench`)
 * sees it beside the answer; browsers' developer tools show it too.
 */

/**
 * The stages, in the order they happen:
 * - `read`: reading the request: body, content type, authentication, the payload and its key (`received` → `ingest`);
 * - `store`: storing the event: the ingest script's round trip to Redis, the in-call start included when it ran;
 * - `decide`: the receiver deciding the call itself (the routing rule and the commit's round trip);
 * - `wait`: waiting for a worker's decision (the receiver could not decide it);
 * - `total`: from the request reaching the webhook route to the answer being built.
 */
export type ServerTimingStage = 'read' | 'store' | 'decide' | 'wait' | 'total';

/** `read;dur=0.061, store;dur=0.183, ...`: durations in ms with microsecond precision; negative or non-finite ones are left out. */
export function formatServerTiming(parts: ReadonlyArray<readonly [ServerTimingStage, number]>): string {
  return parts
    .filter(([, ms]) => Number.isFinite(ms) && ms >= 0)
    .map(([name, ms]) => `${name};dur=${ms.toFixed(3)}`)
    .join(', ');
}

/** A `Server-Timing` header's `name;dur=ms` entries (other parameters and entries without a duration are skipped). */
export function parseServerTiming(header: string | null | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const entry of (header ?? '').split(',')) {
    const [name, ...params] = entry.split(';').map((s) => s.trim());
    const dur = params.find((p) => p.startsWith('dur='));
    const ms = dur === undefined ? NaN : Number(dur.slice(4));
    if (name && Number.isFinite(ms)) out[name] = ms;
  }
  return out;
}
