import type { Logger } from '@ivr/core';
/** The part of a pino logger the shutdown helper uses. */
export type ShutdownLogger = Pick<Logger, 'info' | 'error'>;

/**
 * Run `close` once on SIGTERM/SIGINT, then exit 0; a second signal or `graceMs` (SHUTDOWN_GRACE_MS) without
 * finishing exits 1, and so does a `close` that throws. `close` is told why it runs (`SIGTERM`, `SIGINT`,
 * `parent exited`, or the reason given to the returned function).
 * Workers finish their in-flight jobs in `close` (BullMQ `worker.close()`), anything unfinished returns to
 * the queue through stalled-job recovery.
 * A second signal is the deliberate "force" of someone running the app directly (Ctrl-C twice). Under
 * `pnpm start` the apps run in process groups of their own, so a terminal's Ctrl-C never reaches them twice:
 * scripts/start.ts sends each exactly one SIGTERM, in order. Started with an IPC channel (scripts/start.ts does,
 * and node:cluster does for its workers), the app also stops in order when that channel closes: its parent is gone
 * (killed with SIGKILL), so nobody would ever stop it.
 * Returns a function that starts the same shutdown from inside the process (e.g. a supervisor giving up).
 */
export function onShutdown(logger: ShutdownLogger, name: string, close: (reason: string) => Promise<void>, graceMs: number): (reason: string) => void {
  let closing = false;
  const handler = (signal: string) => {
    if (closing) {
      logger.error({ component: name, signal }, 'second signal, exiting now');
      process.exit(1);
    }
    closing = true;
    logger.info({ component: name, signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ component: name, graceMs }, 'shutdown took longer than the grace period, exiting');
      process.exit(1);
    }, graceMs);
    timer.unref();
    close(signal).then(
      () => {
        logger.info({ component: name }, 'stopped');
        process.exit(0);
      },
      (err: Error) => {
        logger.error({ component: name, err: err.message }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => handler('SIGTERM'));
  process.on('SIGINT', () => handler('SIGINT'));
  if (process.send) process.once('disconnect', () => !closing && handler('parent exited'));
  return (reason) => {
    if (!closing) handler(reason);
  };
}
