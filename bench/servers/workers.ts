/**
 * The production worker wiring (startWorkers from apps/worker, config from the environment) in a forked
 * process that also answers the bench's questions over IPC: how many decisions the store holds, how many
 * requests it made to its backend, how many analytics calls the occupancy cache made.
 */
import { createLogger, loadConfig } from '@ivr/config';
import { genesysFromConfig, startWorkers } from '@ivr/worker';
import { serveIpc } from '../lib/procs';

const config = loadConfig(process.env);
const logger = createLogger('bench-worker', config.LOG_LEVEL);
const genesys = genesysFromConfig(config, logger);
await genesys.login();
const running = await startWorkers(config, logger, genesys);

export interface WorkerStats {
  stored: number;
  storeRequests: number;
  batches: number;
  analyticsCalls: number;
  cacheHits: number;
}

serveIpc({
  stats: async (): Promise<WorkerStats> => {
    const b = running.batcher.stats();
    const o = running.occupancy.stats();
    return { stored: await running.store.count(), storeRequests: running.store.requests(), batches: b.batches, analyticsCalls: o.analyticsCalls, cacheHits: o.cacheHits };
  },
});
process.send?.({ ready: true });
process.once('SIGTERM', () => {
  running.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
