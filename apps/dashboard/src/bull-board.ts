import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Queue } from 'bullmq';
import type { Hono } from 'hono';

export const BULL_BOARD_PATH = '/admin/queues';

/** Bull Board for every queue, mounted at `/admin/queues`; `readOnly` hides and refuses (405) every mutation. */
export function bullBoard(queues: readonly Queue[], opts: { readOnly: boolean }): Hono {
  const serverAdapter = new HonoAdapter(serveStatic);
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q, { readOnlyMode: opts.readOnly, allowRetries: !opts.readOnly })),
    serverAdapter,
    options: {
      uiConfig: {
        boardTitle: opts.readOnly ? 'IVR queues (read-only)' : 'IVR queues',
        miscLinks: [{ text: 'Decision heatmap', url: '/admin/heatmap' }],
      },
    },
  });
  return serverAdapter.registerPlugin();
}
