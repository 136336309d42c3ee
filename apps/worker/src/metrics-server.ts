import type { Logger } from 'pino';
import type { Config } from '@ivr/config';
import { serveMetrics, type IvrMetrics, type MetricsServer } from '@ivr/metrics';

/** The port worker process `WORKER_INDEX` serves /metrics on: WORKER_METRICS_PORT + index - 1; undefined when disabled (0). */
export function workerMetricsPort(config: Pick<Config, 'WORKER_METRICS_PORT' | 'WORKER_INDEX'>): number | undefined {
  if (config.WORKER_METRICS_PORT === 0) return undefined;
  return config.WORKER_METRICS_PORT + config.WORKER_INDEX - 1;
}

/** Where worker /metrics listens: WORKER_METRICS_HOST, else every interface with ADMIN_TOKEN set, loopback without. */
export function workerMetricsHost(config: Pick<Config, 'WORKER_METRICS_HOST' | 'ADMIN_TOKEN'>): string {
  return config.WORKER_METRICS_HOST ?? (config.ADMIN_TOKEN ? '0.0.0.0' : '127.0.0.1');
}

/**
 * Serve GET /metrics for this worker process. A port that cannot be bound is logged, not fatal:
 * the process keeps working its jobs (metrics are for watching, not for routing calls).
 */
export async function startWorkerMetrics(config: Config, metrics: IvrMetrics, logger: Logger): Promise<MetricsServer | undefined> {
  const port = workerMetricsPort(config);
  if (port === undefined) {
    logger.info('worker metrics disabled (WORKER_METRICS_PORT=0)');
    return undefined;
  }
  try {
    const host = workerMetricsHost(config);
    const server = await serveMetrics(metrics, port, host);
    logger.info({ url: `http://${host}:${server.port}/metrics`, port: server.port, host, workerIndex: config.WORKER_INDEX }, 'worker metrics served');
    return server;
  } catch (e) {
    logger.error({ port, workerIndex: config.WORKER_INDEX, err: (e as Error).message }, 'worker metrics not served; jobs are still processed');
    return undefined;
  }
}
