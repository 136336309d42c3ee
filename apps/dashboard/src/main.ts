import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { createLogger, decisionStoreConfig, exitOnStartupFailure, loadConfigOrExit } from '@ivr/config';
import { createMetrics, httpMetrics } from '@ivr/metrics';
import { createQueues, heldState, keyspace } from '@ivr/queue-contract';
import { createRedis, warnIfEvicting } from '@ivr/redis';
import { createDecisionStore } from '@ivr/reporting';
import { budgetUsage } from '@ivr/genesys';
import { onShutdown } from '@ivr/runtime';
import { createDashboardApp } from './app';
import { dashboardBind } from './security';
import { guardStore } from './store-guard';

const config = loadConfigOrExit();
const log = createLogger('dashboard', config.LOG_LEVEL);

const bind = dashboardBind({ host: config.DASHBOARD_HOST, token: config.ADMIN_TOKEN });
if ('error' in bind) {
  log.fatal?.({ reason: bind.error }, 'dashboard not started');
  process.stderr.write(`dashboard: ${bind.error}\n`);
  process.exit(1);
}

const redis = createRedis(config.REDIS_URL, 'client');
redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
const queues = createQueues(redis, config.QUEUE_PREFIX, { applyAttempts: config.APPLY_ATTEMPTS, applyBackoffMs: config.APPLY_BACKOFF_MS });
// The store may be down at start (Elasticsearch): the dashboard serves anyway and shows "store unavailable".
const store = guardStore(createDecisionStore(decisionStoreConfig(config), redis, config.QUEUE_PREFIX), { logger: log });
void store.init();

await warnIfEvicting(redis, log);

// This process's own series only: HTTP server metrics and the process defaults (queue depth comes from the receiver and workers).
const metrics = createMetrics();
const app = createDashboardApp({
  queues: queues.all,
  store,
  reportsDir: config.REPORTS_DIR,
  adminToken: config.ADMIN_TOKEN,
  readOnly: config.DASHBOARD_READ_ONLY,
  logger: log,
  metrics: () => metrics.render(),
  httpMetrics: httpMetrics(metrics),
  clientAddress: (c) => getConnInfo(c).remote.address ?? 'unknown',
  budget: () => budgetUsage(redis, config.QUEUE_PREFIX, config.GENESYS_RATE_PER_MIN, config.GENESYS_BUDGET_WINDOW_MS),
  held: () => heldState(redis, keyspace(config.QUEUE_PREFIX)),
  metricsLinks: [
    { label: 'receiver', url: `http://${config.RECEIVER_HOST === '0.0.0.0' ? '127.0.0.1' : config.RECEIVER_HOST}:${config.RECEIVER_PORT}/metrics` },
    ...(config.WORKER_METRICS_PORT ? [{ label: 'worker 1 (worker N: port + N − 1)', url: `http://127.0.0.1:${config.WORKER_METRICS_PORT}/metrics` }] : []),
  ],
});

if (!config.ADMIN_TOKEN) log.warn({ host: bind.host }, 'ADMIN_TOKEN unset: dashboard on loopback only, loopback Host header only');

const server = serve({ fetch: app.fetch, port: config.DASHBOARD_PORT, hostname: bind.host }, (info: AddressInfo) => {
  const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
  log.info(
    { host: info.address, port: info.port, store: store.kind, prefix: config.QUEUE_PREFIX, readOnly: config.DASHBOARD_READ_ONLY, auth: Boolean(config.ADMIN_TOKEN), url: `http://${host}:${info.port}/admin` },
    'dashboard listening',
  );
});

server.once('error', (err) => exitOnStartupFailure(err, { app: 'dashboard', portVar: 'DASHBOARD_PORT' }));

onShutdown(
  log,
  'dashboard',
  async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await queues.close();
    await store.close();
    await redis.quit().catch(() => redis.disconnect());
  },
  config.SHUTDOWN_GRACE_MS,
);
