/**
 * The receiver as real processes: RECEIVER_WORKERS=2 runs a node:cluster primary (superviseCluster) and two
 * receivers sharing one port; SIGTERM to the primary drains both and everything exits 0 within SHUTDOWN_GRACE_MS.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, startApp, TEST_REDIS_URL, testRedis, waitFor } from '@ivr/testing';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

describe('receiver process with RECEIVER_WORKERS=2', () => {
  const t = testRedis('recv-main');
  afterAll(() => t.cleanup());

  it('two processes serve one port; SIGTERM stops them through the one shutdown helper, exit 0', async () => {
    const port = await freePort();
    const app = startApp(MAIN, { REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: t.prefix, RECEIVER_PORT: String(port), RECEIVER_HOST: '127.0.0.1', RECEIVER_WORKERS: '2', SHUTDOWN_GRACE_MS: '10000', LOG_LEVEL: 'info' }, 'receiver');
    try {
      const lines = () => app.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; pid: number; [k: string]: unknown });
      await waitFor(() => lines().filter((l) => l.msg === 'receiver listening').length === 2, 'two receiver processes listening', 90_000, 50);
      expect(lines().find((l) => l.msg === 'starting cluster worker processes (node:cluster)')).toMatchObject({ component: 'receiver', workers: 2, port });
      expect(new Set(lines().filter((l) => l.msg === 'receiver listening').map((l) => l.pid)).size).toBe(2);
      const res = await fetch(`http://127.0.0.1:${port}/webhook/genesys-dtmf`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'main-1' }, body: JSON.stringify({ conversationId: 'c-1', dtmf: '1' }) });
      expect(res.status).toBe(202);
    } finally {
      expect(await app.stop(20_000)).toBe(0);
    }
    const stopped = app.output().split('\n').filter((l) => l.includes('"msg":"stopped"'));
    expect(stopped).toHaveLength(3); // both receivers, then the primary
    expect(stopped.at(-1)).toContain('"component":"receiver"');
  }, 150_000);
});
