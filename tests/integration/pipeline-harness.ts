import { loadConfig, type Config } from '@ivr/config';
import { silentLogger, testRedis } from '@ivr/testing';
import { startTestSim, type TestSim } from '@ivr/genesys-sim/testing';
import { startReceiver, type RunningReceiver } from '@ivr/receiver';
import { genesysFromConfig, startWorkers, type RunningWorkers } from '@ivr/worker';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Pipeline {
  config: Config;
  sim: TestSim;
  receiver: RunningReceiver;
  workers: RunningWorkers;
  redis: ReturnType<typeof testRedis>['redis'];
  prefix: string;
  post(body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: Record<string, unknown>; ms: number }>;
  close(): Promise<void>;
}

/**
 * The whole system in this process: simulator, receiver, the three workers, embedded store; unique prefix.
 * `opts.logger`: a real pino logger for tests that read the log lines (default: silent).
 */
export async function startPipeline(env: Record<string, string> = {}, opts: { logger?: Parameters<typeof startWorkers>[1] } = {}): Promise<Pipeline> {
  const t = testRedis('pipe');
  const sim = await startTestSim();
  const config = loadConfig({
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: t.prefix,
    GENESYS_API_BASE: sim.url,
    RECEIVER_PORT: '0',
    RECEIVER_HOST: '127.0.0.1',
    REPORTS_DIR: mkdtempSync(join(tmpdir(), 'ivr-reports-')),
    OCCUPANCY_CACHE_MS: '0',
    OCCUPANCY_SOURCE: 'polling', // these tests read the poll path; tests/integration/occupancy-push.int.test.ts the push one
    APPLY_BACKOFF_MS: '50',
    REPORT_LINGER_MS: '20',
    GENESYS_RATE_PER_MIN: '60000',
    LOG_LEVEL: 'silent',
    ...env,
  });
  const logger = opts.logger ?? (silentLogger as unknown as Parameters<typeof startWorkers>[1]);
  const genesys = genesysFromConfig(config, logger);
  await genesys.login();
  const workers = await startWorkers(config, logger, genesys);
  const receiver = await startReceiver(config, logger);
  return {
    config,
    sim,
    receiver,
    workers,
    redis: t.redis,
    prefix: t.prefix,
    async post(body, headers = {}) {
      const start = performance.now();
      const res = await fetch(`${receiver.url}/webhook/genesys-dtmf`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
      const json = (await res.json()) as Record<string, unknown>;
      return { status: res.status, body: json, ms: performance.now() - start };
    },
    async close() {
      await receiver.close();
      await workers.close();
      await sim.close();
      await t.cleanup();
    },
  };
}
