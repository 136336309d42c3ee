/** One queue's live counts, as read from Genesys queue observations. */
export interface QueueObservation {
  queueId: string;
  idle: number; // oOnQueueUsers / IDLE (the queue's user group): the available agents
  interacting: number; // oInteracting for `mediaType` only
  waiting: number; // oWaiting for `mediaType` only
  /** The media type whose conversation figures `waiting`/`interacting` are (MEDIA_TYPE). */
  mediaType: string;
  observedAt: number; // ms epoch
}

/** The media type decisions are taken for when MEDIA_TYPE is not set. */
export const DEFAULT_MEDIA_TYPE = 'voice';

interface ObservationDatum {
  metric?: string;
  qualifier?: string;
  stats?: { count?: number };
}
interface ObservationResult {
  group?: { queueId?: string; mediaType?: string; [k: string]: unknown };
  data?: ObservationDatum[];
}

/**
 * Reduce an observations query response to counts per queue, in the shape Genesys answers it: per queue, one
 * `{queueId}` group with the user metrics (available agents = `oOnQueueUsers`/`IDLE`) and one `{mediaType, queueId}`
 * group per media type with the conversation metrics (`oWaiting`, `oInteracting`). Only the `mediaType` group's
 * conversation figures are read: chat or email waiting must not count in a voice decision. A metric may be
 * omitted (absent means 0) or given with an explicit 0; a queue with no result at all counts as all zeros.
 */
export function observationsToCounts(
  queueIds: readonly string[],
  response: { results?: ObservationResult[] } | undefined,
  now: number,
  mediaType: string = DEFAULT_MEDIA_TYPE,
): Map<string, QueueObservation> {
  const out = new Map<string, QueueObservation>();
  for (const q of queueIds) out.set(q, { queueId: q, idle: 0, interacting: 0, waiting: 0, mediaType, observedAt: now });
  for (const r of response?.results ?? []) {
    const q = r.group?.queueId;
    const entry = q ? out.get(q) : undefined;
    if (!entry) continue;
    const groupMedia = r.group?.mediaType;
    for (const d of r.data ?? []) {
      const count = d.stats?.count ?? 0;
      if (groupMedia === undefined) {
        if (d.metric === 'oOnQueueUsers' && d.qualifier === 'IDLE') entry.idle += count;
      } else if (groupMedia === mediaType) {
        if (d.metric === 'oWaiting') entry.waiting += count;
        else if (d.metric === 'oInteracting') entry.interacting += count;
      }
    }
  }
  return out;
}
