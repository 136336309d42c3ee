import { serve } from '@hono/node-server';
import { createLogger, decisionStoreConfig, exitOnStartupFailure, loadConfigOrExit } from '@ivr/config';
import { createQueues, createRedis, warnIfEvicting } from '@ivr/queues';
import { createDecisionStore } from '@ivr/reporting';
import { createDashboardApp } from './app';

const config = loadConfigOrExit();
const log = createLogger('dashboard', config.LOG_LEVEL);

const redis = createRedis(config.REDIS_URL, 'client');
redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
const queues = createQueues(redis, config.QUEUE_PREFIX, { applyAttempts: config.APPLY_ATTEMPTS, applyBackoffMs: config.APPLY_BACKOFF_MS });
const store = createDecisionStore(decisionStoreConfig(config), redis, config.QUEUE_PREFIX);
await store.init();

await warnIfEvicting(redis, log);

const app = createDashboardApp({
  queues: queues.all,
  store,
  reportsDir: config.REPORTS_DIR,
  adminToken: config.ADMIN_TOKEN,
  readOnly: config.DASHBOARD_READ_ONLY,
  logger: log,
});

const hostname = config.ADMIN_TOKEN ? '0.0.0.0' : '127.0.0.1';
if (!config.ADMIN_TOKEN) log.warn('ADMIN_TOKEN unset: dashboard bound to 127.0.0.1 only');

const server = serve({ fetch: app.fetch, port: config.DASHBOARD_PORT, hostname }, (info) => {
  log.info(
    { host: hostname, port: info.port, store: store.kind, prefix: config.QUEUE_PREFIX, readOnly: config.DASHBOARD_READ_ONLY, auth: Boolean(config.ADMIN_TOKEN) },
    `dashboard listening on http://${hostname}:${info.port}/admin/queues (decision store: ${store.kind})`,
  );
});

server.once('error', (err) => exitOnStartupFailure(err, { app: 'dashboard', portVar: 'DASHBOARD_PORT' }));

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  const force = setTimeout(() => {
    log.error('shutdown timed out; exiting');
    process.exit(1);
  }, 10000);
  force.unref();
  try {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await queues.close();
    await store.close();
    await redis.quit().catch(() => redis.disconnect());
    log.info('stopped');
    process.exit(0);
  } catch (err) {
    log.error({ err }, 'error during shutdown');
    process.exit(1);
  }
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
if (process.send) process.once('disconnect', () => void shutdown('parent exited')); // started by scripts/start.ts, which is gone
