/**
 * The real pipeline for the bench: the strict Genesys simulator, N worker processes with the production wiring
 * (bench/servers/workers.ts) and the receiver (apps/receiver/src/main.ts) on the bench's private Redis, with a
 * routing policy mapping digits 1-3 to three queues. Used by end to end, the in-call decision and scale-out.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createConversation, simControl } from '@ivr/genesys-sim/testing';
import { freePort, waitForHttp, type NodeProcess as Child } from '@ivr/testing';
import { LOG_DIR, runTs, waitReady } from './procs';
import type { PrivateRedis } from './redis-server';

export const QUEUE_IDS = ['bench-q1', 'bench-q2', 'bench-q3'];

export interface PipelineOptions {
  /** Worker processes (each with every role); 0 starts none (start them later with startWorkerProcs). */
  workers: number;
  concurrency: number;
  logLevel: string;
  /** RECEIVER_WORKERS. */
  procs: number;
  /** Directory for `--cpu-prof` of the (first) worker process. */
  workerProfileDir?: string | undefined;
  /** Directory for `--cpu-prof` of the receiver process. */
  receiverProfileDir?: string | undefined;
  extraEnv?: Record<string, string>;
  /** Another copy of the repository to run the simulator, receiver and workers from (bench/ab-in-call.ts). */
  root?: string | undefined;
}

export interface Pipeline {
  simUrl: string;
  recvUrl: string;
  control: ReturnType<typeof simControl>;
  env: Record<string, string>;
  workers: Child[];
  receiver: Child;
  children: Child[];
  /** Stop every worker process (each drains like production: in-flight jobs finish). */
  stopWorkers(): Promise<void>;
  /** Start `n` more worker processes and wait until each is ready. */
  addWorkers(n: number, nodeArgs?: string[]): Promise<Child[]>;
  /** Create `n` calls in the simulator, conversation `${run}-c${i}`, customer `p${i}` (as `webhook(run)` posts). */
  createCalls(run: string, n: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startPipeline(redis: PrivateRedis, o: PipelineOptions): Promise<Pipeline> {
  const policyFile = join(LOG_DIR, 'routing-policy.json');
  writeFileSync(
    policyFile,
    JSON.stringify({ default: { queueId: QUEUE_IDS[0], threshold: 5 }, digits: Object.fromEntries(QUEUE_IDS.map((q, i) => [String(i + 1), { queueId: q, threshold: 5 }])) }),
  );
  const [simPort, recvPort] = [await freePort(), await freePort()];
  const simUrl = `http://127.0.0.1:${simPort}`;
  const at = o.root ? { cwd: o.root } : {};
  const sim = runTs('genesys-sim', 'apps/genesys-sim/src/main.ts', { SIM_PORT: String(simPort), LOG_LEVEL: 'warn' }, at);
  const children: Child[] = [sim];
  const workers: Child[] = [];
  const stop = async () => {
    for (const c of [...children].reverse()) await c.stop();
  };
  try {
    await waitForHttp(`${simUrl}/__sim/stats`, sim);
    const control = simControl(simUrl);
    for (const [i, q] of QUEUE_IDS.entries()) await control.setQueue(q, { idle: [8, 3, 6][i]!, interacting: 4, waiting: 1 });
    const env: Record<string, string> = {
      REDIS_URL: redis.url,
      QUEUE_PREFIX: 'ivr',
      RECEIVER_PORT: String(recvPort),
      RECEIVER_HOST: '127.0.0.1',
      RECEIVER_WORKERS: String(o.procs),
      LOG_LEVEL: o.logLevel,
      WEBHOOK_SECRET: '',
      WEBHOOK_TOKEN: '',
      GENESYS_CLIENT_ID: '',
      GENESYS_CLIENT_SECRET: '',
      GENESYS_API_BASE: simUrl,
      ROUTING_POLICY: policyFile,
      GENESYS_RATE_PER_MIN: '100000',
      DECIDE_CONCURRENCY: String(o.concurrency),
      APPLY_CONCURRENCY: String(o.concurrency),
      REPORTS_DIR: join(LOG_DIR, 'reports'),
      ...o.extraEnv,
    };
    const addWorkers = async (n: number, nodeArgs: string[] = []) => {
      const started = Array.from({ length: n }, () => {
        const w = runTs(`workers-${workers.length + 1}`, 'bench/servers/workers.ts', env, { ipc: true, nodeArgs, ...at });
        workers.push(w);
        children.push(w);
        return w;
      });
      await Promise.all(started.map((w) => waitReady(w)));
      return started;
    };
    const receiver = runTs('receiver-pipeline', 'apps/receiver/src/main.ts', env, { ...(o.receiverProfileDir ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', o.receiverProfileDir] } : {}), ...at });
    children.push(receiver);
    await Promise.all([
      o.workers > 0 ? addWorkers(1, o.workerProfileDir ? ['--cpu-prof', '--cpu-prof-dir', o.workerProfileDir] : []) : undefined,
      waitForHttp(`http://127.0.0.1:${recvPort}/readyz`, receiver),
    ]);
    if (o.workers > 1) await addWorkers(o.workers - 1);
    return {
      simUrl,
      recvUrl: `http://127.0.0.1:${recvPort}`,
      control,
      env,
      workers,
      receiver,
      children,
      addWorkers,
      async stopWorkers() {
        const ws = workers.splice(0);
        await Promise.all(ws.map((w) => w.stop()));
        for (const w of ws) children.splice(children.indexOf(w), 1);
      },
      // The calls exist in Genesys before their webhooks (the strict simulator answers 404 for any other).
      async createCalls(run, n) {
        for (let i = 0; i < n; i += 100) {
          await Promise.all(Array.from({ length: Math.min(100, n - i) }, (_, j) => createConversation(simUrl, `${run}-c${i + j}`, { customerId: `p${i + j}` })));
        }
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** One pipeline (one worker process) for the in-call decision and scale-out, on a freshly reset Redis. */
export async function sharedPipeline(redis: PrivateRedis, p: { concurrency: number; logLevel: string; procs: number }): Promise<Pipeline> {
  await redis.reset();
  return startPipeline(redis, { workers: 1, concurrency: p.concurrency, logLevel: p.logLevel, procs: p.procs });
}
