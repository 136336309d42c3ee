import type { Queue } from 'bullmq';
import type { Context, Hono } from 'hono';
import { groupFailed, retryRetryableFailed } from '@ivr/ops';
import type { AdminEnv } from '../admin-auth';
import { BULL_BOARD_PATH } from '../bull-board';
import { failuresPage } from '../pages';
import { wantsHtml } from '../security';
import type { RouteContext } from './context';

/**
 * Failed jobs: GET /admin/failures (grouped by reason), POST /admin/failures/retry-retryable, and the two Bull Board
 * API routes we answer ourselves (registered before the board): "Retry all" retries only the retryable failures, and
 * a Genesys 429 pause cannot be released.
 */
export function failureRoutes(app: Hono<AdminEnv>, ctx: RouteContext): void {
  const { deps, readOnly, nav, audit } = ctx;
  const queueNamed = (name: string) => deps.queues.find((q) => q.name === name);

  app.get('/admin/failures', async (c) => {
    const groups = await groupFailed(deps.queues);
    const retried = c.req.query('retried');
    const left = c.req.query('left');
    const message = retried !== undefined ? `Retried ${Number(retried) || 0} job(s); ${Number(left) || 0} left failed (Genesys 400/403/404).` : undefined;
    c.header('Cache-Control', 'no-store');
    return c.html(failuresPage({ groups, message, readOnly, nav: nav(c, 'failures') }));
  });

  const retryRetryable = async (c: Context<AdminEnv>, queues: Queue[]) => {
    const r = await retryRetryableFailed(queues);
    const retried = Object.values(r).reduce((a, b) => a + b.retried, 0);
    const left = Object.values(r).reduce((a, b) => a + b.left, 0);
    audit(c, 'retry-retryable', { queues: queues.map((q) => q.name), retried, left });
    return { retried, left };
  };

  app.post('/admin/failures/retry-retryable', async (c) => {
    const { retried, left } = await retryRetryable(c, deps.queues);
    if (wantsHtml(c) || (c.req.header('content-type') ?? '').includes('form')) return c.redirect(`/admin/failures?retried=${retried}&left=${left}`, 303);
    return c.json({ retried, left });
  });

  // Bull Board's "Retry all" on failed jobs: only the retryable ones (a Genesys 400/403/404 stays failed).
  app.put(`${BULL_BOARD_PATH}/api/queues/:queueName/retry/failed`, async (c) => {
    const q = queueNamed(c.req.param('queueName'));
    if (!q) return c.json({ error: 'Queue not found' }, 404);
    const { retried, left } = await retryRetryable(c, [q]);
    return c.json({ retried, skipped: left });
  });

  // No release of a 429 pause (nor deletion of a shared limiter/budget key) from the board.
  app.put(`${BULL_BOARD_PATH}/api/queues/:queueName/rate-limit/release`, (c) =>
    c.json({ error: 'a Genesys 429 pause cannot be released from the dashboard; it ends at Retry-After', message: 'a Genesys 429 pause ends by itself at Retry-After' }, 409),
  );
}
