import { createServer } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startApp, uniquePrefix } from '@ivr/testing';
import { startTestSim, type TestSim } from '@ivr/genesys-sim/testing';
import { APPS, type AppName } from '../apps';

/**
 * Issue 13 item 7: expected start-up failures end as one line a user can act on, never a stack trace, in every app.
 * Real processes (`node --import tsx apps/<app>/src/main.ts`).
 */
const STACK = /\n\s+at /;
let sim: TestSim;
beforeAll(async () => {
  sim = await startTestSim();
});
afterAll(async () => {
  await sim.close();
});

async function failsWith(app: AppName, env: Record<string, string>) {
  const p = startApp(APPS[app], { QUEUE_PREFIX: uniquePrefix('startup'), LOG_LEVEL: 'error', WORKER_METRICS_PORT: '0', GENESYS_API_BASE: sim.url, ...env }, app);
  const code = await Promise.race([p.exited, new Promise((r) => setTimeout(() => r('still running'), 30000))]);
  if (code === 'still running') await p.stop(1000);
  return { code, out: p.output().trim() };
}

describe('start-up failures are one line (real processes)', () => {
  it('a port in use: receiver, dashboard and simulator', async () => {
    const blocker = createServer();
    const port = await freePort();
    await new Promise<void>((r) => blocker.listen(port, '0.0.0.0', r));
    try {
      const [rx, dash, sim] = await Promise.all([
        failsWith('receiver', { RECEIVER_PORT: String(port) }),
        failsWith('dashboard', { DASHBOARD_PORT: String(port), ADMIN_TOKEN: 'startup-test-admin-token-1' }),
        failsWith('genesys-sim', { SIM_PORT: String(port) }),
      ]);
      expect(rx).toMatchObject({ code: 1 });
      expect(rx.out).toMatch(new RegExp(`receiver: cannot start: port ${port} on 0\\.0\\.0\\.0 is already in use \\(RECEIVER_PORT\\)`));
      expect(dash.out).toMatch(new RegExp(`dashboard: cannot start: port ${port} on 0\\.0\\.0\\.0 is already in use \\(DASHBOARD_PORT\\)`));
      expect(sim.out).toMatch(/genesys-sim: cannot start: .*EADDRINUSE.*\(SIM_PORT\)/);
      for (const r of [rx, dash, sim]) expect(r.out).not.toMatch(STACK);
    } finally {
      blocker.close();
    }
  }, 60000);

  it('Redis unreachable at start: receiver and worker', async () => {
    const dead = `redis://127.0.0.1:${await freePort()}`;
    const [rx, worker] = await Promise.all([failsWith('receiver', { REDIS_URL: dead }), failsWith('worker', { REDIS_URL: dead })]);
    for (const [name, r] of [['receiver', rx], ['worker', worker]] as const) {
      expect(r.code).toBe(1);
      expect(r.out).toMatch(new RegExp(`${name}: cannot start: Redis not reachable within \\d+ ms`));
      expect(r.out).not.toMatch(STACK);
    }
  }, 60000);

  it('a bad ROUTING_POLICY file (worker) and a bad secret (receiver): one line each', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'policy-'));
    const policy = join(dir, 'policy.yaml');
    writeFileSync(policy, 'digits:\n  "9x": { queueId: q }\n  : [unbalanced\n');
    const [worker, rx] = await Promise.all([failsWith('worker', { ROUTING_POLICY: policy }), failsWith('receiver', { WEBHOOK_SECRET: 'whsec_' })]);
    expect(worker.code).toBe(1);
    expect(worker.out).toMatch(/^.*worker: cannot start: ROUTING_POLICY /m);
    expect(worker.out).not.toMatch(STACK);
    expect(rx.code).toBe(78);
    expect(rx.out).toBe('Invalid configuration: WEBHOOK_SECRET: is "whsec_" with nothing after it; use whsec_<base64 of at least 16 random bytes>');
  }, 60000);
});
