/**
 * The baseline a user would write by hand: Hono on @hono/node-server, `SET NX` on the idempotency key, BullMQ
 * `queue.add`, nothing else (no validation, no fingerprint, no conflict detection, no atomic claim + job: a crash
 * between the SET and the add loses the event). NAIVE_WORKERS processes via node:cluster, like RECEIVER_WORKERS.
 */
import { serve } from '@hono/node-server';
import { Queue } from 'bullmq';
import { Hono } from 'hono';
import { Redis } from 'ioredis';
import { clustered } from './cluster';

const port = Number(process.env.NAIVE_PORT ?? 3998);
const workers = Number(process.env.NAIVE_WORKERS ?? 1);
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = process.env.QUEUE_PREFIX ?? 'naive';

clustered(workers, () => {
  const redis = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new Queue('events', { connection: redis, prefix, defaultJobOptions: { removeOnComplete: { age: 3600, count: 10000 }, removeOnFail: { age: 7 * 86400, count: 50000 } } });
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.post('/webhook/genesys-dtmf', async (c) => {
    const body = await c.req.json<Record<string, unknown>>();
    const key = c.req.header('idempotency-key') ?? String(body['conversationId']);
    const fresh = await redis.set(`${prefix}:idem:${key}`, '1', 'EX', 86400, 'NX');
    if (!fresh) return c.json({ status: 'duplicate' }, 200);
    const job = await queue.add('dtmf', { ...body, idempotencyKey: key, receivedAt: Date.now() });
    return c.json({ status: 'accepted', jobId: job.id }, 202);
  });
  const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' });
  process.once('SIGTERM', () => server.close(() => void queue.close().then(() => process.exit(0))));
});
