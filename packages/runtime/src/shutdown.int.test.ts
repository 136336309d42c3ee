import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { spawnNode, waitFor } from '@ivr/testing';

const SHUTDOWN_TS = fileURLToPath(new URL('./shutdown.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ivr-shutdown-'));

/**
 * A real process that registers onShutdown with `close` (a JS expression for an async function) and prints `ready`;
 * the logger prints one JSON line per call.
 */
function child(close: string, graceMs: number, opts: { ipc?: boolean; trigger?: string } = {}) {
  const script = join(dir, `child-${Math.random().toString(36).slice(2)}.ts`);
  writeFileSync(
    script,
    `import { onShutdown } from ${JSON.stringify(SHUTDOWN_TS)};
const log = (level: string) => (o: object, msg?: string) => console.log(JSON.stringify({ level, msg, ...o }));
const stop = onShutdown({ info: log('info'), error: log('error') }, 'probe', ${close}, ${graceMs});
setInterval(() => undefined, 1000); // stay alive until a signal
${opts.trigger ? `setTimeout(() => stop(${JSON.stringify(opts.trigger)}), 10);` : ''}
console.log('ready');
`,
  );
  // Output to a file: the exit promise resolves on exit, as a parent that is gone (the IPC case) would see it.
  const p = spawnNode(script, { name: 'shutdown probe', ipc: opts.ipc, logFile: `${script}.log` });
  const { proc, exited } = p;
  const lines = () =>
    p
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: string; msg: string; component: string });
  return { proc, exited, lines, ready: () => waitFor(() => p.output().includes('ready'), 'the child to start', 20000) };
}

describe('onShutdown (a real process, real signals)', () => {
  it('SIGTERM: runs close once, logs, exits 0', async () => {
    const c = child('async () => console.log(JSON.stringify({ level: "info", msg: "closed by close()" }))', 10_000);
    await c.ready();
    c.proc.kill('SIGTERM');
    expect(await c.exited).toBe(0);
    expect(c.lines().map((l) => `${l.level} ${l.msg}`)).toEqual(['info shutting down', 'info closed by close()', 'info stopped']);
    expect(c.lines()[0]).toMatchObject({ component: 'probe', signal: 'SIGTERM' });
  });

  it('close fails: logs the reason, exits 1', async () => {
    const c = child('async () => { throw new Error("redis gone") }', 10_000);
    await c.ready();
    c.proc.kill('SIGINT');
    expect(await c.exited).toBe(1);
    expect(c.lines().at(-1)).toMatchObject({ level: 'error', msg: 'error during shutdown', err: 'redis gone' });
  });

  it('close takes longer than the grace period: exits 1 saying so', async () => {
    const c = child('() => new Promise<void>(() => undefined)', 50);
    await c.ready();
    c.proc.kill('SIGTERM');
    expect(await c.exited).toBe(1);
    expect(c.lines().at(-1)).toMatchObject({ level: 'error', msg: 'shutdown took longer than the grace period, exiting', graceMs: 50 });
  });

  it('a second signal while closing exits 1 at once', async () => {
    const c = child('() => new Promise<void>(() => undefined)', 60_000);
    await c.ready();
    c.proc.kill('SIGTERM');
    await waitFor(() => c.lines().some((l) => l.msg === 'shutting down'), 'the first signal to be handled');
    c.proc.kill('SIGINT');
    expect(await c.exited).toBe(1);
    expect(c.lines().at(-1)).toMatchObject({ level: 'error', msg: 'second signal, exiting now', signal: 'SIGINT' });
  });

  it('close is told why it runs; the returned function starts the same shutdown from inside', async () => {
    const c = child('async (why: string) => console.log(JSON.stringify({ level: "info", msg: "closing because", why }))', 10_000, { trigger: 'worker crash loop' });
    expect(await c.exited).toBe(0);
    expect(c.lines().map((l) => `${l.level} ${l.msg}`)).toEqual(['info shutting down', 'info closing because', 'info stopped']);
    expect(c.lines()[1]).toMatchObject({ why: 'worker crash loop' });
  });

  it('started with an IPC channel: the channel closing (the parent is gone) stops it in order', async () => {
    const c = child('async (why: string) => console.log(JSON.stringify({ level: "info", msg: "closing because", why }))', 10_000, { ipc: true });
    await c.ready();
    c.proc.disconnect();
    expect(await c.exited).toBe(0);
    expect(c.lines()[0]).toMatchObject({ msg: 'shutting down', signal: 'parent exited' });
    expect(c.lines()[1]).toMatchObject({ why: 'parent exited' });
  });
});
