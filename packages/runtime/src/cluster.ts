import type { Logger } from '@ivr/core';
import cluster, { type Worker } from 'node:cluster';
import { onShutdown, type ShutdownLogger } from './shutdown';

export type ClusterLogger = Pick<Logger, 'info' | 'error' | 'fatal'>;

export interface ClusterOptions {
  /** Worker processes to keep running (RECEIVER_WORKERS). */
  workers: number;
  /** The component name in log lines and the shutdown helper (`receiver`). */
  name: string;
  logger: ClusterLogger;
  /** The workers' own SHUTDOWN_GRACE_MS: the supervisor waits this + 2 s for them before it exits 1. */
  graceMs: number;
  /** A worker that exits within this of its start is a quick death; three in a row stop everything (default 5 s). */
  quickDeathMs?: number;
  /** Ctrl-C reaches every process of the group: the supervisor lets workers drain on their own SIGINT this long before it sends SIGTERM (default 3 s). */
  sigintForwardMs?: number;
  /** Extra fields for the start log line (e.g. the port). */
  fields?: object;
  now?: () => number;
}

/**
 * The primary of a node:cluster (call it when `cluster.isPrimary`): forks `workers` processes of this same script
 * (they share the listening port: node:cluster hands connections out round-robin) and keeps them running. A worker
 * that dies is replaced; one that keeps dying within `quickDeathMs` of starting (bad Redis URL, port in use) stops
 * the whole group with an error (exit 1) instead of a restart loop. Stopping goes through the one shutdown helper
 * (`onShutdown`): SIGTERM (or the IPC channel to its own parent closing) is forwarded as SIGTERM to every worker,
 * each drains as a single process would, and the primary exits 0 once all have exited cleanly (1 if one did not, or
 * after `graceMs` + 2 s). The workers themselves register `onShutdown` too: they also stop when the primary dies
 * (their IPC channel closes).
 */
export function superviseCluster(opts: ClusterOptions): void {
  const { logger, name } = opts;
  const now = opts.now ?? Date.now;
  const quickDeathMs = opts.quickDeathMs ?? 5000;
  const live = new Map<Worker, number>(); // worker → started at
  let stopping = false;
  let failed = false;
  let quickDeaths = 0;
  let allExited: () => void = () => undefined;

  const fork = () => live.set(cluster.fork(), now());
  const signalAll = (signal: NodeJS.Signals) => {
    for (const w of live.keys()) w.process.kill(signal);
  };

  cluster.on('exit', (w, code, signal) => {
    const startedAt = live.get(w) ?? now();
    live.delete(w);
    if (stopping) {
      if (code !== 0) failed = true;
      if (live.size === 0) allExited();
      return;
    }
    const lived = now() - startedAt;
    quickDeaths = lived < quickDeathMs ? quickDeaths + 1 : 0;
    if (quickDeaths >= 3) {
      logger.fatal({ component: name, workerId: w.id, code, signal }, 'cluster worker processes keep exiting right after start (see their errors above); stopping');
      failed = true;
      stop('worker crash loop');
      return;
    }
    logger.error({ component: name, workerId: w.id, code, signal, livedMs: lived }, 'cluster worker process exited; starting a replacement');
    fork();
  });

  const stop = onShutdown(
    logger,
    name,
    async (reason) => {
      stopping = true;
      logger.info({ component: name, why: reason, workers: live.size }, 'stopping cluster worker processes');
      const exited = new Promise<void>((resolve) => (allExited = resolve));
      // Ctrl-C: every worker got the terminal's SIGINT too; SIGTERM goes only to those still running a while later.
      const forward = reason === 'SIGINT' ? setTimeout(() => signalAll('SIGTERM'), opts.sigintForwardMs ?? 3000) : undefined;
      if (!forward) signalAll('SIGTERM');
      if (live.size > 0) await exited;
      clearTimeout(forward);
      if (failed) throw new Error('a cluster worker process exited with an error (see its log above)');
    },
    opts.graceMs + 2000,
  );

  logger.info({ component: name, workers: opts.workers, ...opts.fields }, 'starting cluster worker processes (node:cluster)');
  for (let i = 0; i < opts.workers; i++) fork();
}
