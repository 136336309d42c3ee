import { createLogger, describeParts, exitOnStartupFailure, loadConfigOrExit } from '@ivr/config';
import { createRedis, waitForRedis } from '@ivr/queues';
import { onShutdown } from '@ivr/runtime';
import { genesysFromConfig } from './genesys';
import { startWorkers } from './workers';
import { startWorkerMetrics } from './metrics-server';

const config = loadConfigOrExit();
const logger = createLogger('worker', config.LOG_LEVEL);
logger.info({ parts: describeParts(config) }, 'worker starting');
let genesys: ReturnType<typeof genesysFromConfig>;
try {
  genesys = genesysFromConfig(config, logger);
} catch (e) {
  // e.g. GENESYS_ENVIRONMENT is not one of the SDK's regions: one line with the valid values.
  logger.fatal({ err: (e as Error).message }, 'Genesys configuration invalid; not starting');
  process.exit(1);
}
// Redis first: the login goes through the Genesys budget, which lives in Redis; an unreachable Redis is the reason
// to report, not the login it makes fail.
const probe = createRedis(config.REDIS_URL, 'client', { connectionName: 'ivr-worker-start' });
probe.on('error', () => undefined); // the timeout below says it once, in one line
await waitForRedis(probe).catch((err: unknown) => exitOnStartupFailure(err, { app: 'worker' }));
probe.disconnect();
try {
  await genesys.login();
} catch (e) {
  logger.fatal({ err: (e as Error).message }, 'Genesys login failed; not starting');
  process.exit(1);
}
const running = await startWorkers(config, logger, genesys).catch((err: unknown) => exitOnStartupFailure(err, { app: 'worker' }));
const metricsServer = await startWorkerMetrics(config, running.metrics, logger);
onShutdown(logger, 'worker', async () => {
  await running.close();
  await metricsServer?.close();
}, config.SHUTDOWN_GRACE_MS);
