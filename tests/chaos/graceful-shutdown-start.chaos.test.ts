/**
 * Chaos 7: the ordered stop of `pnpm start` (issue 13 item 3), in a real process group as a terminal makes it:
 * `pnpm start` spawned detached (its own group), load with Genesys writes in flight (every write takes 800 ms),
 * then one of
 *  - Ctrl-C: SIGINT to the whole group, and a second SIGINT while it stops,
 *  - `kill -TERM` on pnpm,
 *  - `kill -TERM` on scripts/start.ts.
 * Asserts: the receiver stops before the workers; every process of the run has exited and its ports are free;
 * no job is left active (an abandoned job would stay active until stalled-job recovery) and none stalled;
 * no heatmap temp file is left; exit code 0.
 * Also: `pnpm start --private-redis` starts its own redis-server, says so, and stops it last; without
 * redis-server on PATH it says in one line to run scripts/setup.sh.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { simControl } from '@ivr/genesys-sim/testing';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cleanup, freePort, REPO_ROOT, TEST_REDIS_URL, waitFor } from '@ivr/testing';
import { openQueues, recordRow, scenarioRedis, secondsSince } from './harness';

type Mode = 'ctrl-c' | 'pnpm' | 'start.ts';

interface Run {
  pnpm: ChildProcess;
  out: () => string;
  ports: number[];
  env: Record<string, string>;
  reportsDir: string;
  exited: Promise<number | string>;
  /** Every holder of the output pipes closed them (pnpm and what inherited its stdout): all output has been read. */
  outputClosed: Promise<void>;
}

async function startStack(extraEnv: Record<string, string>, args: string[] = []): Promise<Run> {
  const [rx, dash, sim] = [await freePort(), await freePort(), await freePort()];
  const reportsDir = mkdtempSync(join(tmpdir(), 'ivr-start-reports-'));
  const env: Record<string, string> = {
    RECEIVER_PORT: String(rx),
    DASHBOARD_PORT: String(dash),
    SIM_PORT: String(sim),
    RECEIVER_HOST: '127.0.0.1',
    WORKER_METRICS_PORT: '0',
    GENESYS_CLIENT_ID: '',
    GENESYS_CLIENT_SECRET: '',
    GENESYS_API_BASE: '',
    ELASTICSEARCH_URL: '',
    ELASTICSEARCH_HOST: '',
    LOG_LEVEL: 'info',
    SHUTDOWN_GRACE_MS: '20000',
    REPORT_LINGER_MS: '50',
    REPORTS_DIR: reportsDir,
    ...extraEnv,
  };
  const pnpm = spawn('pnpm', ['start', ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  pnpm.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  pnpm.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((r) => pnpm.once('exit', (c, s) => r(c ?? s ?? 'unknown')));
  const outputClosed = new Promise<void>((r) => pnpm.once('close', () => r()));
  return { pnpm, out: () => out, ports: [rx, dash, sim], env, reportsDir, exited, outputClosed };
}

async function waitUp(url: string, run: Run): Promise<void> {
  await waitFor(async () => {
    try {
      return (await fetch(url)).ok;
    } catch {
      return false;
    }
  }, `${url} (output so far:\n${run.out().slice(-2000)})`, 60000, 200);
}

/** Every pid in the process tree under `root` (from /proc), the root included. */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(root);
  return out;
}

/** Alive = exists and is not a zombie (a re-parented process may wait to be reaped by PID 1). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}

describe('chaos 7: pnpm start stops in order', () => {
  const cleanup = new Cleanup();
  afterAll(() => cleanup.run());

  it.each<[Mode]>([['ctrl-c'], ['pnpm'], ['start.ts']])('%s: receiver first, in-flight jobs finish, nothing left running, no port held, no temp file', async (mode) => {
    const t0 = Date.now();
    const { prefix } = scenarioRedis(`start${mode.replace(/\W/g, '')}`, cleanup);
    const run = await startStack({ REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix });
    const pids = () => processTree(run.pnpm.pid!);
    const seen = new Set<number>();
    cleanup.add(`kill what is left of ${mode}`, () => {
      for (const p of seen) if (isAlive(p)) process.kill(p, 'SIGKILL');
    });
    const [rxPort, , simPort] = run.ports;
    await waitUp(`http://127.0.0.1:${rxPort}/healthz`, run);
    await waitUp(`http://127.0.0.1:${run.ports[1]}/healthz`, run).catch(() => undefined); // dashboard: best effort
    for (const p of pids()) seen.add(p);
    const sim = simControl(`http://127.0.0.1:${simPort}`);
    await sim.fault({ match: 'attributes', latencyMs: 800 });

    const queues = openQueues(TEST_REDIS_URL, prefix);
    cleanup.add('close queues', () => queues.close());
    const N = 80;
    // Calls exist before their webhooks (strict simulator): the writes in flight are real writes, not 404s.
    await Promise.all(Array.from({ length: N }, (_, i) => sim.createConversation(`c-stop-${i}`, { customerId: 'p' })));
    const statuses = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const res = await fetch(`http://127.0.0.1:${rxPort}/webhook/genesys-dtmf`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': `stop-${mode}-${i}` },
          body: JSON.stringify({ conversationId: `c-stop-${i}`, participantId: 'p', dtmf: '1' }),
        });
        return res.status;
      }),
    );
    expect(statuses.filter((s) => s !== 202)).toEqual([]);
    await waitFor(async () => (await queues.writes.getActiveCount()) > 0, 'Genesys writes in flight', 20000, 50);
    const activeAtStop = await queues.writes.getActiveCount();
    for (const p of pids()) seen.add(p);
    const startTs = Number(/\[start\] IVR routing orchestrator \(pid (\d+)/.exec(run.out())?.[1]);
    expect(startTs).toBeGreaterThan(0);

    if (mode === 'ctrl-c') {
      process.kill(-run.pnpm.pid!, 'SIGINT');
      await sleep(300);
      process.kill(-run.pnpm.pid!, 'SIGINT'); // a second Ctrl-C while it stops: must not abandon jobs
    } else if (mode === 'pnpm') {
      process.kill(run.pnpm.pid!, 'SIGTERM');
    } else {
      process.kill(startTs, 'SIGTERM');
    }

    await waitFor(() => [...seen].every((p) => !isAlive(p)), `every process of the run to exit (alive: ${[...seen].filter(isAlive).join(',')})`, 60000, 100);
    // A process seen gone in /proc may still have its last lines in the pipe (SIGTERM to pnpm: pnpm exits first and
    // start.ts, which inherited its stdout, writes "[start] stopped" last): read until the pipes close.
    await Promise.race([run.outputClosed, sleep(10_000, undefined, { ref: false })]);
    const out = run.out();
    expect(out).toMatch(/\[start\] stopping in order/);
    const rxStopped = out.indexOf('[start] receiver stopped');
    const workersStopping = out.indexOf('[start] stopping workers');
    expect(rxStopped).toBeGreaterThan(0);
    expect(workersStopping).toBeGreaterThan(rxStopped);
    expect(out).toMatch(/\[start\] stopped\n/);
    expect(out).not.toMatch(/second signal, exiting now|forced stop|did not stop within/);
    if (mode === 'ctrl-c') expect(out).toMatch(/already stopping in order/);
    for (const p of run.ports) expect(await portFree(p), `port ${p} free`).toBe(true);
    const counts = await Promise.all(queues.all.map((q) => q.getJobCounts('active')));
    expect(counts.map((c) => c.active)).toEqual([0, 0, 0]); // nothing abandoned mid-job
    expect(readdirSync(run.reportsDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const completedWrites = (await queues.writes.getJobCounts('completed')).completed ?? 0;
    expect(completedWrites).toBeGreaterThanOrEqual(activeAtStop);
    recordRow({
      scenario: `7 stop (${mode})`,
      load: `${N} webhooks, writes take 800 ms, pnpm start (1 worker)`,
      fault: mode === 'ctrl-c' ? 'SIGINT to the process group, twice' : mode === 'pnpm' ? 'SIGTERM to pnpm' : 'SIGTERM to scripts/start.ts',
      result: `receiver stopped before workers; ${seen.size} processes exited; active jobs left 0`,
      figures: `writes active at stop ${activeAtStop}, completed ${completedWrites}; ports free; tmp files 0`,
      seconds: secondsSince(t0),
      pass: true,
    });
  }, 150000);

  it('--private-redis: its own redis-server, said in the banner, stopped last with its data directory', async () => {
    const run = await startStack({ QUEUE_PREFIX: 'ivr' }, ['--private-redis']);
    const [rxPort] = run.ports;
    await waitUp(`http://127.0.0.1:${rxPort}/healthz`, run);
    const m = /\[start\]\s+redis\s+redis:\/\/127\.0\.0\.1:(\d+) \(private redis-server started by pnpm start/.exec(run.out());
    expect(m, run.out()).not.toBeNull();
    const res = await fetch(`http://127.0.0.1:${rxPort}/webhook/genesys-dtmf`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'private-1' },
      body: JSON.stringify({ conversationId: 'c-private', participantId: 'p', dtmf: '1' }),
    });
    expect(res.status).toBe(202);
    const tree = processTree(run.pnpm.pid!);
    const redisPid = tree.find((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('redis-server');
      } catch {
        return false;
      }
    });
    expect(redisPid).toBeDefined();
    const dir = readlinkSync(`/proc/${redisPid}/cwd`); // redis-server changes into its --dir
    expect(dir).toMatch(/ivr-start-redis-/);
    process.kill(-run.pnpm.pid!, 'SIGINT'); // pnpm itself dies of the SIGINT; start.ts stops the rest in order
    await run.exited;
    await waitFor(() => tree.every((p) => !isAlive(p)), 'every process to exit', 30000, 100);
    const out = run.out();
    expect(out).toMatch(/\[start\] stopped\n/);
    expect(out.indexOf('[start] redis stopped')).toBeGreaterThan(out.indexOf('[start] dashboard stopped'));
    expect(existsSync(dir)).toBe(false);
  }, 120000);

  it('without redis-server on PATH: one line saying to run scripts/setup.sh', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts', '--private-redis'], { cwd: REPO_ROOT, env: { ...process.env, PATH: '/nonexistent' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(1);
    expect(out.trim()).toBe('[start] nothing answers on redis://127.0.0.1:6379 and redis-server is not installed: run bash scripts/setup.sh (installs it), or set REDIS_URL');
  }, 30000);
});
