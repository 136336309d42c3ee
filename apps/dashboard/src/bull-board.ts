import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import type { QueueJobJson } from '@bull-board/api/typings/app';
import { HonoAdapter } from '@bull-board/hono';
import { serveStatic } from '@hono/node-server/serve-static';
import { batchOutcomesOf, batchReportsOf, QUEUE_NAMES } from '@ivr/queue-contract';
import { genesysPauseMs } from '@ivr/ops';
import type { Queue } from 'bullmq';
import type { Hono } from 'hono';

export const BULL_BOARD_PATH = '/admin/queues';

/** Operator-facing names and descriptions of the queues, shown by Bull Board. */
const QUEUE_INFO: Readonly<Record<string, { displayName: string; description: string }>> = {
  [QUEUE_NAMES.events]: { displayName: 'Key presses (decide)', description: 'One job per accepted webhook: read the queue occupancy, decide queue or voicemail.' },
  [QUEUE_NAMES.writes]: {
    displayName: 'Genesys writes (apply)',
    description: 'Hand each decision back to the call as participant attributes. 429 pauses the queue for Retry-After; 400/403/404 fail at once.',
  },
  [QUEUE_NAMES.reports]: { displayName: 'Decision records (report)', description: 'Store each decision (Elasticsearch or the embedded store) for the heatmaps.' },
};

/** The events page of the call a job belongs to (Bull Board's job view links to it). */
function journeyUrl(job: Pick<QueueJobJson, 'id' | 'data'>): { displayText: string; href: string } {
  // A report-batch or write-outcome-batch job: the journey of its first call (by decision id; the page names a report batch).
  const items = batchReportsOf(job.data) ?? batchOutcomesOf(job.data);
  const first = items?.[0]?.decisionId;
  if (typeof first === 'string') return { displayText: `Call journey (first of ${items!.length})`, href: `/admin/events?q=${encodeURIComponent(first)}` };
  const key = (job.data as { idempotencyKey?: unknown } | null)?.idempotencyKey;
  const q = typeof key === 'string' ? key : String(job.id ?? '');
  return { displayText: 'Call journey', href: `/admin/events?q=${encodeURIComponent(q)}` };
}

/**
 * The BullMQ adapter, with the "rate limited" badge showing a Genesys 429 pause only (not BullMQ's limiter window,
 * which counts jobs and made the badge appear after a single write) and no release of it from the board: deleting the
 * limiter key would also drop a limiter/budget window shared by every worker, and releasing a 429 pause early only
 * earns more 429s. The pause ends by itself at Retry-After.
 */
class IvrQueueAdapter extends BullMQAdapter {
  constructor(private readonly ivrQueue: Queue, options: ConstructorParameters<typeof BullMQAdapter>[1]) {
    super(ivrQueue, options);
  }

  override async getActiveRateLimitTtl(): Promise<number> {
    return genesysPauseMs(this.ivrQueue);
  }

  override async releaseActiveRateLimit(): Promise<void> {
    throw new Error('a Genesys 429 pause cannot be released from the dashboard; it ends at Retry-After');
  }
}

/** Bull Board for every queue, mounted at `/admin/queues`; `readOnly` hides and refuses (405) every mutation. */
export function bullBoard(queues: readonly Queue[], opts: { readOnly: boolean }): Hono {
  const serverAdapter = new HonoAdapter(serveStatic);
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    queues: queues.map(
      (q) =>
        new IvrQueueAdapter(q, {
          readOnlyMode: opts.readOnly,
          allowRetries: !opts.readOnly,
          ...(QUEUE_INFO[q.name] ?? {}),
          externalJobUrl: journeyUrl,
        }),
    ),
    serverAdapter,
    options: {
      uiConfig: {
        boardTitle: opts.readOnly ? 'IVR queues (read-only)' : 'IVR queues',
        miscLinks: [
          { text: 'Status', url: '/admin' },
          { text: 'Find a call', url: '/admin/events' },
          { text: 'Heatmaps', url: '/admin/heatmap' },
          { text: 'Failures', url: '/admin/failures' },
        ],
      },
    },
  });
  return serverAdapter.registerPlugin();
}
