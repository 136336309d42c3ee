import cluster from 'node:cluster';
import { createLogger, exitOnStartupFailure, loadConfigOrExit } from '@ivr/config';
import { onShutdown, superviseCluster } from '@ivr/runtime';
import { startReceiver } from './server';

const config = loadConfigOrExit();
const logger = createLogger('receiver', config.LOG_LEVEL);

if (config.RECEIVER_WORKERS > 1 && cluster.isPrimary) {
  // RECEIVER_WORKERS > 1: this process only supervises; the forked processes (this file again) share RECEIVER_PORT.
  superviseCluster({ workers: config.RECEIVER_WORKERS, name: 'receiver', logger, graceMs: config.SHUTDOWN_GRACE_MS, fields: { port: config.RECEIVER_PORT } });
} else {
  const receiver = await startReceiver(config, logger).catch((err: unknown) => exitOnStartupFailure(err, { app: 'receiver', portVar: 'RECEIVER_PORT' }));
  onShutdown(logger, cluster.isWorker ? `receiver ${cluster.worker?.id}` : 'receiver', () => receiver.close(), config.SHUTDOWN_GRACE_MS);
}
