import { createLogger, describeParts, exitOnStartupFailure, loadConfigOrExit } from '@ivr/config';
import { onShutdown } from '@ivr/runtime';
import { startWorkerMetrics } from './metrics-server';
import { genesysOrExit, loginOrExit, redisOrExit } from './startup';
import { startWorkers } from './workers';

const config = loadConfigOrExit();
const logger = createLogger('worker', config.LOG_LEVEL);
logger.info({ parts: describeParts(config) }, 'worker starting');
const genesys = genesysOrExit(config, logger);
await redisOrExit(config);
await loginOrExit(genesys, logger);
// The roles of WORKER_ROLES: decide (+ occupancy push holder), apply, report (+ heatmap regeneration); see workers.ts.
const running = await startWorkers(config, logger, genesys).catch((err: unknown) => exitOnStartupFailure(err, { app: 'worker' }));
const metricsServer = await startWorkerMetrics(config, running.metrics, logger);
onShutdown(
  logger,
  'worker',
  async () => {
    await running.close();
    await metricsServer?.close();
  },
  config.SHUTDOWN_GRACE_MS,
);
