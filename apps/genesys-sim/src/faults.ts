import type { FaultSpec, SimEndpoint } from './types';

export interface ActiveFault {
  spec: FaultSpec;
  /** Matching requests seen so far. */
  seen: number;
  /** Faults injected so far. */
  injected: number;
}

export interface FaultDecision {
  latencyMs: number;
  status?: number;
  retryAfterS?: number;
}

export function validateFault(input: unknown): FaultSpec | string {
  if (typeof input !== 'object' || input === null) return 'fault must be a JSON object';
  const f = input as Record<string, unknown>;
  if (typeof f.match !== 'string' || f.match.length === 0) return 'fault.match must be a non-empty string (endpoint name or path substring)';
  if (f.status !== undefined && (!Number.isInteger(f.status) || (f.status as number) < 100 || (f.status as number) > 599)) return 'fault.status must be an HTTP status';
  if (f.rate !== undefined && (typeof f.rate !== 'number' || f.rate < 0 || f.rate > 1)) return 'fault.rate must be a number in 0..1';
  for (const k of ['count', 'retryAfterS', 'latencyMs'] as const) {
    if (f[k] !== undefined && (typeof f[k] !== 'number' || (f[k] as number) < 0)) return `fault.${k} must be a non-negative number`;
  }
  if (f.status === undefined && f.latencyMs === undefined) return 'fault needs a status, a latencyMs, or both';
  return f as unknown as FaultSpec;
}

function matches(spec: FaultSpec, endpoint: SimEndpoint, path: string): boolean {
  return spec.match === endpoint || path.includes(spec.match);
}

/** Counter-based rate: the k-th matching request is hit when floor((k+1)*rate) > floor(k*rate). Exactly reproducible. */
function hits(fault: ActiveFault): boolean {
  const rate = fault.spec.rate ?? 1;
  const k = fault.seen;
  fault.seen = k + 1;
  return Math.floor((k + 1) * rate + 1e-9) > Math.floor(k * rate + 1e-9);
}

/** Advances every matching fault and returns the combined decision (first status wins, latencies add up). */
export function decideFaults(faults: readonly ActiveFault[], endpoint: SimEndpoint, path: string): FaultDecision | undefined {
  let decision: FaultDecision | undefined;
  for (const fault of faults) {
    const { spec } = fault;
    if (spec.count !== undefined && fault.injected >= spec.count) continue;
    if (!matches(spec, endpoint, path)) continue;
    if (!hits(fault)) continue;
    fault.injected += 1;
    decision ??= { latencyMs: 0 };
    decision.latencyMs += spec.latencyMs ?? 0;
    if (decision.status === undefined && spec.status !== undefined) {
      decision.status = spec.status;
      decision.retryAfterS = spec.retryAfterS ?? (spec.status === 429 ? 1 : undefined);
    }
  }
  return decision;
}
