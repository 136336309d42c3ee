import cluster from 'node:cluster';

/**
 * Run `serveOne` in `workers` processes sharing the port (node:cluster), as RECEIVER_WORKERS does for the receiver,
 * so a baseline is compared with the same number of server processes; in this process when `workers` is 1.
 */
export function clustered(workers: number, serveOne: () => void): void {
  if (!(workers > 1 && cluster.isPrimary)) return serveOne();
  for (let i = 0; i < workers; i++) cluster.fork();
  const stop = () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
    setTimeout(() => process.exit(0), 2000).unref();
  };
  cluster.on('exit', () => {
    if (!Object.keys(cluster.workers ?? {}).length) process.exit(0);
  });
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
