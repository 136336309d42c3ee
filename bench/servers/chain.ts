/**
 * The end-to-end baseline: a bare 3-stage BullMQ chain of no-op processors (stage 1 adds to stage 2, 2 adds
 * to 3, 3 does nothing), same Redis, same concurrency and job retention as the real queues. The bench adds
 * jobs to stage 1 and asks over IPC how many completed stage 3.
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { serveIpc } from '../lib/procs';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = process.env.QUEUE_PREFIX ?? 'bench-chain';
const concurrency = Number(process.env.CHAIN_CONCURRENCY ?? 50);
const keep = { removeOnComplete: { age: 3600, count: 10000 }, removeOnFail: { age: 7 * 86400, count: 50000 } };

const client = new Redis(url, { maxRetriesPerRequest: null });
const workerConn = new Redis(url, { maxRetriesPerRequest: null });
const q2 = new Queue('chain-2', { connection: client, prefix, defaultJobOptions: keep });
const q3 = new Queue('chain-3', { connection: client, prefix, defaultJobOptions: keep });
let done = 0;
const common = { connection: workerConn, prefix, concurrency };
const workers = [
  new Worker('chain-1', async (job) => void (await q2.add('s2', job.data, { jobId: `s2-${job.id}` })), common),
  new Worker('chain-2', async (job) => void (await q3.add('s3', job.data, { jobId: `s3-${job.id}` })), common),
  new Worker('chain-3', async () => undefined, common),
];
workers[2]!.on('completed', () => void done++);
await Promise.all(workers.map((w) => w.waitUntilReady()));

serveIpc({ done: () => done });
process.send?.({ ready: true });
process.once('SIGTERM', () => {
  Promise.all(workers.map((w) => w.close()))
    .then(() => Promise.all([q2.close(), q3.close()]))
    .then(
      () => process.exit(0),
      () => process.exit(1),
    );
});
