import cluster from 'node:cluster';
import { createLogger, exitOnStartupFailure, loadConfigOrExit } from '@ivr/config';
import { startReceiver } from './server';
import { onShutdown } from '@ivr/queues';

const config = loadConfigOrExit(process.env);
const logger = createLogger('receiver', config.LOG_LEVEL);

if (config.RECEIVER_WORKERS > 1 && cluster.isPrimary) {
  runPrimary(config.RECEIVER_WORKERS);
} else {
  const receiver = await startReceiver(config, logger).catch((err: unknown) => exitOnStartupFailure(err, { app: 'receiver', portVar: 'RECEIVER_PORT' }));
  onShutdown(logger, cluster.isWorker ? `receiver ${cluster.worker?.id}` : 'receiver', () => receiver.close());
}

/**
 * RECEIVER_WORKERS > 1: this process only supervises; N forked processes share RECEIVER_PORT (node:cluster
 * hands connections out round-robin). A worker that dies is replaced; one that keeps dying within seconds of
 * starting (bad Redis URL, port in use) stops the whole receiver with an error instead of a restart loop.
 * SIGTERM is forwarded to every worker (each drains like a single receiver) and the primary exits when all have.
 */
function runPrimary(n: number): void {
  let stopping = false;
  let quickDeaths = 0;
  const startedAt = new Map<number, number>();
  const fork = () => {
    const w = cluster.fork();
    startedAt.set(w.id, Date.now());
  };
  logger.info({ workers: n, port: config.RECEIVER_PORT }, 'receiver: starting processes (node:cluster)');
  for (let i = 0; i < n; i++) fork();

  let exitCode = 0;
  cluster.on('exit', (w, code, signal) => {
    const alive = Object.keys(cluster.workers ?? {}).length;
    if (stopping) {
      if (code !== 0) exitCode = 1;
      if (alive === 0) process.exit(exitCode);
      return;
    }
    const lived = Date.now() - (startedAt.get(w.id) ?? 0);
    quickDeaths = lived < 5000 ? quickDeaths + 1 : 0;
    if (quickDeaths >= 3) {
      logger.fatal({ workerId: w.id, code, signal }, 'receiver: worker processes keep exiting right after start (see their errors above); stopping');
      stop('worker crash loop', 1);
      return;
    }
    logger.error({ workerId: w.id, code, signal, livedMs: lived }, 'receiver: worker process exited; starting a replacement');
    fork();
  });

  const stop = (why: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    logger.info({ why }, 'receiver: stopping worker processes');
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    const grace = Number(process.env.SHUTDOWN_GRACE_MS ?? 25000) + 2000;
    setTimeout(() => {
      logger.error({ graceMs: grace }, 'receiver: worker processes did not stop in time; exiting');
      process.exit(1);
    }, grace).unref();
    if (!Object.keys(cluster.workers ?? {}).length) process.exit(exitCode);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  // Ctrl-C reaches every process of the foreground group: the workers drain on their own SIGINT; a SIGINT
  // sent to the primary alone is forwarded as SIGTERM to whichever worker has not exited 3 s later.
  process.on('SIGINT', () => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => {
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    }, 3000).unref();
    setTimeout(() => process.exit(1), Number(process.env.SHUTDOWN_GRACE_MS ?? 25000) + 2000).unref();
  });
}
