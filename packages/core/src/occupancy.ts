/** One queue's live counts, as read from Genesys queue observations. */
export interface QueueObservation {
  queueId: string;
  idle: number; // oOnQueueUsers / IDLE: the available agents
  interacting: number;
  waiting: number;
  observedAt: number; // ms epoch
}

interface ObservationDatum {
  metric?: string;
  qualifier?: string;
  stats?: { count?: number };
}
interface ObservationResult {
  group?: { queueId?: string };
  data?: ObservationDatum[];
}

/**
 * Reduce an observations query response to counts per queue. Genesys omits metrics whose count is 0,
 * and omits a queue's result entirely when it has no data: absent means 0.
 */
export function observationsToCounts(
  queueIds: readonly string[],
  response: { results?: ObservationResult[] } | undefined,
  now: number,
): Map<string, QueueObservation> {
  const out = new Map<string, QueueObservation>();
  for (const q of queueIds) out.set(q, { queueId: q, idle: 0, interacting: 0, waiting: 0, observedAt: now });
  for (const r of response?.results ?? []) {
    const q = r.group?.queueId;
    const entry = q ? out.get(q) : undefined;
    if (!entry) continue;
    for (const d of r.data ?? []) {
      const count = d.stats?.count ?? 0;
      if (d.metric === 'oOnQueueUsers' && d.qualifier === 'IDLE') entry.idle += count;
      else if (d.metric === 'oOnQueueUsers' && d.qualifier === 'INTERACTING') entry.interacting += count;
      else if (d.metric === 'oWaiting') entry.waiting += count;
    }
  }
  return out;
}
