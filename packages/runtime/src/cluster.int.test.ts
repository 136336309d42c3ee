/**
 * superviseCluster with real processes: a tiny fixture script that is the primary (superviseCluster) and, forked by
 * node:cluster, each worker (onShutdown with a close that takes DRAIN_MS). Real signals, real IPC.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnNode, waitFor } from '@ivr/testing';

const CLUSTER_TS = fileURLToPath(new URL('./cluster.ts', import.meta.url));
const SHUTDOWN_TS = fileURLToPath(new URL('./shutdown.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ivr-cluster-'));
const script = join(dir, 'cluster-fixture.ts');
writeFileSync(
  script,
  `import cluster from 'node:cluster';
import { superviseCluster } from ${JSON.stringify(CLUSTER_TS)};
import { onShutdown } from ${JSON.stringify(SHUTDOWN_TS)};
const env = process.env;
const log = (level: string) => (o: object, msg?: string) => console.log(JSON.stringify({ level, msg, pid: process.pid, primary: cluster.isPrimary, ...o }));
const logger = { info: log('info'), error: log('error'), fatal: log('fatal') };
if (cluster.isPrimary) {
  superviseCluster({ workers: Number(env.WORKERS), name: 'probe', logger, graceMs: Number(env.GRACE_MS), sigintForwardMs: 200 });
} else {
  if (env.CHILD_MODE === 'crash') process.exit(3);
  const drain = env.CHILD_MODE === 'hang' ? () => new Promise<void>(() => undefined) : () => new Promise<void>((r) => setTimeout(r, Number(env.DRAIN_MS)));
  onShutdown(logger, 'child', drain, Number(env.CHILD_GRACE_MS ?? env.GRACE_MS));
  setInterval(() => undefined, 1000);
  logger.info({}, 'child ready');
}
`,
);

interface Line {
  level: string;
  msg: string;
  pid: number;
  primary: boolean;
  [k: string]: unknown;
}

const started: number[] = [];
afterEach(() => {
  // children orphaned on purpose (the grace test) or left by a failed assertion
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

let primaries = 0;
function primary(env: Record<string, string>, ipc = false) {
  // Output to a file: the exit promise resolves on the primary's exit even while orphaned workers (the grace test)
  // still hold what would otherwise be a shared pipe.
  const p = spawnNode(script, { name: 'cluster primary', env: { WORKERS: '2', GRACE_MS: '10000', DRAIN_MS: '300', ...env }, ipc, logFile: join(dir, `primary-${++primaries}.log`) });
  const { proc, exited } = p;
  const lines = () =>
    p
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Line);
  const ready = () => lines().filter((l) => l.msg === 'child ready');
  const running = (n: number) => waitFor(() => (ready().length >= n ? ready() : undefined), `${n} worker processes to be ready`, 30_000);
  const track = () => started.push(...ready().map((l) => l.pid));
  return { proc, exited, lines, running, track };
}

describe('superviseCluster (real processes, real signals)', () => {
  it('a worker that dies is replaced; SIGTERM then drains every worker and the primary exits 0 after them', async () => {
    const p = primary({});
    const [a, b] = await p.running(2);
    p.track();
    process.kill(a!.pid, 'SIGKILL');
    const replacement = (await p.running(3))[2]!;
    p.track();
    expect(p.lines().find((l) => l.msg === 'cluster worker process exited; starting a replacement')).toMatchObject({ level: 'error', primary: true, signal: 'SIGKILL', code: null });
    expect([a!.pid, b!.pid]).not.toContain(replacement.pid);

    p.proc.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    const lines = p.lines();
    const stoppedChildren = lines.filter((l) => !l.primary && l.msg === 'stopped').map((l) => l.pid);
    expect(stoppedChildren.sort()).toEqual([b!.pid, replacement.pid].sort());
    // each worker was told SIGTERM and drained (DRAIN_MS) before the primary said it stopped
    expect(lines.filter((l) => !l.primary && l.msg === 'shutting down').map((l) => l.signal)).toEqual(['SIGTERM', 'SIGTERM']);
    expect(lines.at(-1)).toMatchObject({ primary: true, msg: 'stopped', component: 'probe' });
  }, 60_000);

  it('workers that do not stop within the grace: the primary exits 1 after grace + 2 s, saying so', async () => {
    const p = primary({ CHILD_MODE: 'hang', GRACE_MS: '300', CHILD_GRACE_MS: '60000' });
    await p.running(2);
    p.track();
    p.proc.kill('SIGTERM');
    expect(await p.exited).toBe(1);
    expect(p.lines().at(-1)).toMatchObject({ primary: true, level: 'error', msg: 'shutdown took longer than the grace period, exiting', graceMs: 2300 });
  }, 60_000);

  it('its IPC channel closing (its own parent is gone) stops the workers and the primary in order', async () => {
    const p = primary({}, true);
    await p.running(2);
    p.track();
    p.proc.disconnect();
    expect(await p.exited).toBe(0);
    expect(p.lines().find((l) => l.primary && l.msg === 'shutting down')).toMatchObject({ signal: 'parent exited' });
    expect(p.lines().filter((l) => !l.primary && l.msg === 'stopped')).toHaveLength(2);
  }, 60_000);

  it('SIGINT (Ctrl-C reaches the whole group): workers still running are sent SIGTERM a little later', async () => {
    const p = primary({});
    await p.running(2);
    p.track();
    p.proc.kill('SIGINT'); // only the primary: it forwards SIGTERM after sigintForwardMs (200 ms here)
    expect(await p.exited).toBe(0);
    expect(p.lines().filter((l) => !l.primary && l.msg === 'shutting down').map((l) => l.signal)).toEqual(['SIGTERM', 'SIGTERM']);
  }, 60_000);

  it('workers that keep dying right after start: the primary gives up with exit 1 instead of a restart loop', async () => {
    const p = primary({ CHILD_MODE: 'crash' });
    expect(await p.exited).toBe(1);
    const lines = p.lines();
    expect(lines.find((l) => l.level === 'fatal')).toMatchObject({ msg: 'cluster worker processes keep exiting right after start (see their errors above); stopping', code: 3 });
    expect(lines.at(-1)).toMatchObject({ msg: 'error during shutdown', err: 'a cluster worker process exited with an error (see its log above)' });
  }, 60_000);
});
