import type { Hono } from 'hono';
import type { Redis } from 'ioredis';
import { HttpError } from '@ivr/core';
import { findCall, type CallJourney } from '@ivr/ops';
import { keyspace } from '@ivr/queue-contract';
import type { DecisionDoc } from '@ivr/reporting';
import type { AdminEnv } from '../admin-auth';
import { eventsPage } from '../pages';
import type { RouteContext } from './context';

/** GET /admin/events?q=: one call's journey through the three queues (findCall) and its stored decision. */
export function eventRoutes(app: Hono<AdminEnv>, ctx: RouteContext): void {
  const { deps, nav } = ctx;
  const queueNamed = (name: string) => deps.queues.find((q) => q.name === name);

  app.get('/admin/events', async (c) => {
    const q = (c.req.query('q') ?? '').trim().slice(0, 300);
    let journey: CallJourney | null = null;
    let stored: DecisionDoc | null = null;
    let storeError: string | undefined;
    if (q) {
      const events = queueNamed('ivr-events');
      const writes = queueNamed('genesys-writes');
      const reports = queueNamed('decision-reports');
      if (!events || !writes || !reports) throw new HttpError(503, 'queues_missing', 'the three queues are not configured');
      const redis = (await events.backend.client) as unknown as Redis;
      journey = await findCall({ queues: { events, writes, reports }, redis, ks: keyspace(events.opts.prefix ?? 'bull') }, q);
      if (journey) {
        try {
          stored = await deps.store.getDecision(journey.decisionId);
        } catch (e) {
          storeError = e instanceof Error ? e.message : String(e);
        }
      }
    }
    c.header('Cache-Control', 'no-store');
    return c.html(eventsPage({ q, journey, stored, storeError, nav: nav(c, 'events') }), q && !journey ? 404 : 200);
  });
}
