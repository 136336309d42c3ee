/** The dashboard as a real process: token strength at start, bind address from config printed as bound, store down at start. */
import { fileURLToPath } from 'node:url';
import { freePort, startApp, testRedis, waitFor } from '@ivr/testing';
import { afterAll, describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

describe('dashboard process', () => {
  const t = testRedis('dash-main');
  afterAll(() => t.cleanup());
  it('refuses a weak ADMIN_TOKEN at start with a one-line reason', async () => {
    const app = startApp(MAIN, { ADMIN_TOKEN: 'a', DASHBOARD_PORT: String(await freePort()), QUEUE_PREFIX: t.prefix });
    // The configuration refuses it before the dashboard starts (EX_CONFIG, one line naming the variable).
    expect(await app.exited).toBe(78);
    expect(app.output()).toMatch(/ADMIN_TOKEN: must be at least 16 characters long/);
    expect(app.output()).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('refuses a public bind address without a token', async () => {
    const app = startApp(MAIN, { ADMIN_TOKEN: '', DASHBOARD_HOST: '0.0.0.0', DASHBOARD_PORT: String(await freePort()), QUEUE_PREFIX: t.prefix });
    expect(await app.exited).toBe(1);
    expect(app.output()).toMatch(/DASHBOARD_HOST=0\.0\.0\.0 needs ADMIN_TOKEN/);
  });

  it('binds where DASHBOARD_HOST says, prints the bound address, and serves with Elasticsearch down at start', async () => {
    const port = await freePort();
    const token = 'main-int-token-5e8a1c';
    const app = startApp(MAIN, {
      ADMIN_TOKEN: token,
      DASHBOARD_HOST: '127.0.0.1',
      DASHBOARD_PORT: String(port),
      QUEUE_PREFIX: t.prefix,
      ELASTICSEARCH_URL: 'http://127.0.0.1:1',
      LOG_LEVEL: 'info',
    });
    try {
      await waitFor(() => /"msg":"dashboard listening"/.test(app.output()), 'the listening line', 20000, 50);
      const line = app.output().split('\n').find((l) => l.includes('"msg":"dashboard listening"'))!;
      expect(JSON.parse(line)).toMatchObject({ host: '127.0.0.1', port, url: `http://127.0.0.1:${port}/admin` });
      const res = await fetch(`http://127.0.0.1:${port}/admin`, { headers: { authorization: `Bearer ${token}`, accept: 'text/html' } });
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('id="store-unavailable"');
      expect(app.proc.exitCode).toBeNull();
    } finally {
      expect(await app.stop()).toBe(0);
    }
  });
});
