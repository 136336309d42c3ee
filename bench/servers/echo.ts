/**
 * The baseline: a bare Hono JSON echo on @hono/node-server (the receiver's stack, no Redis, no validation).
 * ECHO_WORKERS processes via node:cluster, like the receiver's RECEIVER_WORKERS, so both are compared with
 * the same number of server processes.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { clustered } from './cluster';

const port = Number(process.env.ECHO_PORT ?? 3999);

clustered(Number(process.env.ECHO_WORKERS ?? 1), () => {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.post('/webhook/genesys-dtmf', async (c) => c.json(await c.req.json(), 202));
  const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' });
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
});
