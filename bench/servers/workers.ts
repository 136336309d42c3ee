/**
 * The production worker wiring (startWorkers from apps/worker, config from the environment) in a forked
 * process that also answers the bench's questions over IPC: how many decisions the store holds, how many
 * requests it made to its backend, how many analytics calls the occupancy cache made.
 */
import { createLogger, loadConfig } from '@ivr/config';
import { QUEUE_NAMES } from '@ivr/queue-contract';
import { genesysFromConfig, startWorkers } from '@ivr/worker';
import { serveIpc } from '../lib/procs';

const config = loadConfig(process.env);
const logger = createLogger('bench-worker', config.LOG_LEVEL);
const genesys = genesysFromConfig(config, logger);
await genesys.login();
const running = await startWorkers(config, logger, genesys);
let decided = 0;
for (const w of running.workers) if (w.name === QUEUE_NAMES.events) w.on('completed', () => void decided++);

export interface WorkerStats {
  /** Documents the report batcher wrote (no store request: the harness must not add to what it measures). */
  written: number;
  storeRequests: number;
  batches: number;
  analyticsCalls: number;
  cacheHits: number;
  /** Decide jobs this process completed. */
  decided: number;
}

serveIpc({
  stats: (): WorkerStats => {
    const b = running.batcher.stats();
    const o = running.occupancy.stats();
    return { written: b.written + b.duplicates, storeRequests: running.store.requests(), batches: b.batches, analyticsCalls: o.analyticsCalls, cacheHits: o.cacheHits, decided };
  },
  /** Decisions in the store (one store request; call after the measurement). */
  count: () => running.store.count(),
});
process.send?.({ ready: true });
process.once('SIGTERM', () => {
  running.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
