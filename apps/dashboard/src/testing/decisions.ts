import type { DecisionDoc } from '@ivr/reporting';

const ROUTE_COLS = ['route_to_queue', 'route_to_vm'] as const;

function bucket(agents: number | null): string {
  if (agents === null) return 'unknown';
  if (agents < 1) return '0';
  if (agents < 2) return '1';
  if (agents < 3) return '2';
  if (agents < 5) return '3-4';
  if (agents < 10) return '5-9';
  return '10+';
}

/**
 * `n` deterministic decision documents spread over DTMF keys, hours (UTC, one day) and occupancies,
 * routed to voicemail when occupancy reaches the threshold. `tag` keeps ids unique per test.
 */
export function knownDecisions(n: number, tag: string, day = '2024-05-01'): DecisionDoc[] {
  const keys = ['1', '2', '3', '0', '9', '*'];
  const occupancies = [0, 1, 2, 3, 4, 6, 8, 12];
  const threshold = 5;
  const start = Date.parse(`${day}T00:00:00.000Z`);
  return Array.from({ length: n }, (_, i) => {
    const dtmf = keys[(i * 7) % keys.length] ?? '1';
    const occ = occupancies[(i * 3) % occupancies.length] ?? 0;
    // Skewed toward business hours so the hour heatmap has a visible shape.
    const hour = [9, 10, 11, 14, 15, 16, 8, 13, 17, 3, 21, 12][i % 12] ?? 9;
    const ms = start + hour * 3600_000 + ((i * 37) % 3600) * 1000;
    const routing_decision = occ >= threshold ? 'route_to_vm' : 'route_to_queue';
    const id = `${tag}-d${String(i).padStart(4, '0')}`;
    return {
      decisionId: id,
      idempotencyKey: `${id}-key`,
      timestamp: new Date(ms).toISOString(),
      flowInstanceId: `${tag}-flow-${i}`,
      conversationId: `${tag}-conv-${i}`,
      participantId: `${tag}-part-${i}`,
      dtmf,
      queueId: 'demo-queue',
      threshold,
      queue_occupancy: occ,
      routing_decision,
      state: 'COMPLETE',
      sequence: 1,
      latencyMs: 5 + (i % 40),
      occupancySource: i % 4 === 0 ? 'poll' : 'cache',
    } satisfies DecisionDoc;
  });
}

/** Expected counts per (row, route) for the three heatmaps, computed from the documents alone. */
export function expectedCounts(docs: readonly DecisionDoc[]) {
  const dtmf = new Map<string, number>();
  const hour = new Map<string, number>();
  const agents = new Map<string, number>();
  const inc = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  for (const d of docs) {
    inc(dtmf, `${d.dtmf}|${d.routing_decision}`);
    inc(hour, `${String(new Date(d.timestamp).getUTCHours()).padStart(2, '0')}|${d.routing_decision}`);
    inc(agents, `${bucket(d.queue_occupancy)}|${d.routing_decision}`);
  }
  return { total: docs.length, dtmf, hour, agents, routes: ROUTE_COLS };
}

/** A matrix ({rows, cols, counts}) as a "row|col" → count map, zero cells dropped. */
export function matrixCells(m: { rows: string[]; cols: string[]; counts: number[][] }): Map<string, number> {
  const out = new Map<string, number>();
  m.rows.forEach((r, i) =>
    m.cols.forEach((c, j) => {
      const v = m.counts[i]?.[j] ?? 0;
      if (v) out.set(`${r}|${c}`, v);
    }),
  );
  return out;
}
