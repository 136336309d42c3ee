/**
 * `pnpm start [--workers N] [--private-redis]`: run the whole system on this machine as separate processes:
 * a private Redis (when REDIS_URL is unset and nothing answers on 127.0.0.1:6379, or with --private-redis),
 * the Genesys simulator (when no GENESYS_CLIENT_ID is set), N worker processes, the receiver and the dashboard.
 *
 * Ordered stop (docs/reliability.md): on Ctrl-C, SIGTERM or SIGHUP to this process, or when its parent goes away
 * (`kill -TERM` on pnpm: pnpm exits without signalling its script, which is then re-parented), the receiver stops
 * first (no new webhooks), then the workers (in-flight jobs finish, the report batch is flushed), then the
 * dashboard, the simulator and the private Redis. Each child runs in a process group of its own, so a terminal's
 * Ctrl-C reaches only this process, and each child gets exactly one SIGTERM from here. A second Ctrl-C during the
 * stop changes nothing (it says so); a THIRD one is the deliberate force: every child is SIGKILLed at once (jobs
 * in flight then come back through BullMQ's stalled-job check). Children also stop on their own if this process
 * is killed with SIGKILL (their IPC channel closes).
 * Must run directly under node (package.json: `node --import tsx scripts/start.ts`): the tsx CLI wrapper would
 * sit between pnpm and this process and hide the parent's exit.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { ConfigError, describeParts, loadConfig } from '@ivr/config';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_REDIS = { host: '127.0.0.1', port: 6379 };

function parseArgs(argv: string[]): { workers: number; privateRedis: boolean } {
  const strictInt = (v: string | undefined) => (v !== undefined && /^[0-9]{1,3}$/.test(v) ? Number(v) : NaN);
  let workers = process.env.WORKER_PROCESSES ? strictInt(process.env.WORKER_PROCESSES) : 1;
  let privateRedis = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--workers') workers = strictInt(argv[++i]);
    else if (a.startsWith('--workers=')) workers = strictInt(a.slice(10));
    else if (a === '--private-redis') privateRedis = true;
    else if (a === '--help' || a === '-h') {
      console.log('usage: pnpm start [--workers N] [--private-redis]   (env: WORKER_PROCESSES, and every variable in .env.example)');
      process.exit(0);
    } else {
      console.error(`unknown argument ${a}; usage: pnpm start [--workers N] [--private-redis]`);
      process.exit(64);
    }
  }
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
    console.error(`--workers must be an integer 1-64 (got ${workers})`);
    process.exit(64);
  }
  return { workers, privateRedis };
}

const { workers, privateRedis: forcePrivateRedis } = parseArgs(process.argv.slice(2));
let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(process.env);
} catch (e) {
  console.error(e instanceof ConfigError ? e.message : e);
  process.exit(78);
}

/** Does a Redis answer PING at host:port within `ms`? (raw RESP, so no client retries get in the way) */
function redisAnswers(host: string, port: number, ms = 500): Promise<boolean> {
  return new Promise((res) => {
    const s = connect(port, host);
    const done = (ok: boolean) => {
      s.destroy();
      res(ok);
    };
    s.setTimeout(ms, () => done(false));
    s.once('error', () => done(false));
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (d) => done(d.toString().startsWith('+PONG') || d.toString().startsWith('-NOAUTH')));
  });
}

/** Is a TCP port on 127.0.0.1 free to listen on? */
function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), res(false)));
    s.once('error', () => res(true));
  });
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

interface Child {
  name: string;
  proc: ChildProcess;
  order: number;
}
const children: Child[] = [];
let stopping = false;
let signals = 0;
let redisDir: string | undefined;

function alive(c: Child): boolean {
  return c.proc.exitCode === null && c.proc.signalCode === null;
}

function spawnChild(name: string, command: string, args: string[], order: number, env: Record<string, string>, ipc: boolean): ChildProcess {
  const proc = spawn(command, args, {
    cwd: root,
    env: { ...process.env, ...env },
    // A process group of its own: Ctrl-C in the terminal reaches this process only, which stops children in order.
    detached: true,
    stdio: ipc ? ['ignore', 'inherit', 'inherit', 'ipc'] : ['ignore', 'inherit', 'inherit'],
  });
  children.push({ name, proc, order });
  proc.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`[start] ${name} exited (${signal ?? code}); stopping everything`);
      void stop(1, `${name} exited`);
    }
  });
  return proc;
}

const childEnv: Record<string, string> = {};
function run(name: string, entry: string, order: number, env: Record<string, string> = {}): ChildProcess {
  return spawnChild(name, process.execPath, ['--import', 'tsx', resolve(root, entry)], order, { ...childEnv, ...env }, true);
}

/**
 * A private redis-server for this run: ephemeral data directory (removed at the stop), no persistence,
 * `noeviction` (queues and idempotency keys must never be evicted), bound to 127.0.0.1 only. Stopped last.
 */
async function startPrivateRedis(): Promise<string> {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    console.error('[start] nothing answers on redis://127.0.0.1:6379 and redis-server is not installed: run bash scripts/setup.sh (installs it), or set REDIS_URL');
    process.exit(1);
  }
  const port = (await portFree(DEFAULT_REDIS.port)) ? DEFAULT_REDIS.port : await freePort();
  redisDir = mkdtempSync(join(tmpdir(), 'ivr-start-redis-'));
  spawnChild('redis', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', redisDir, '--maxmemory-policy', 'noeviction', '--loglevel', 'warning'], 4, {}, false);
  const deadline = Date.now() + 10000;
  while (!(await redisAnswers('127.0.0.1', port))) {
    if (Date.now() > deadline) {
      console.error(`[start] the private redis-server did not answer on 127.0.0.1:${port} within 10 s`);
      await stop(1, 'private Redis did not start');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return `redis://127.0.0.1:${port}`;
}

let redisLine: string;
if (forcePrivateRedis || (!process.env.REDIS_URL && !(await redisAnswers(DEFAULT_REDIS.host, DEFAULT_REDIS.port)))) {
  const url = await startPrivateRedis();
  childEnv.REDIS_URL = url;
  config = { ...config, REDIS_URL: url };
  redisLine = `${url} (private redis-server started by pnpm start: ephemeral, data removed at stop; set REDIS_URL to use your own)`;
} else {
  redisLine = '';
}

const parts = describeParts(config);
console.log(`[start] IVR routing orchestrator (pid ${process.pid}; Ctrl-C stops in order, three times forces)`);
for (const [k, v] of Object.entries(parts)) console.log(`[start]   ${k.padEnd(14)} ${k === 'redis' && redisLine ? redisLine : v}`);

console.log(`[start]   ${'workers'.padEnd(14)} ${workers} process(es), roles ${config.WORKER_ROLES.join(',')}`);
// Each listener's address as it binds it (0.0.0.0 = every interface), from the same config the children read.
const dashboardHost = config.DASHBOARD_HOST ?? (config.ADMIN_TOKEN ? '0.0.0.0' : '127.0.0.1');
console.log(`[start]   ${'receiver'.padEnd(14)} http://${config.RECEIVER_HOST}:${config.RECEIVER_PORT}/webhook/genesys-dtmf${config.RECEIVER_HOST === '0.0.0.0' ? ' (every interface)' : ''}`);
console.log(`[start]   ${'dashboard'.padEnd(14)} http://${dashboardHost}:${config.DASHBOARD_PORT}/admin${config.ADMIN_TOKEN ? ' (ADMIN_TOKEN required)' : ' (loopback only; set ADMIN_TOKEN to expose it)'}`);

if (config.useSimulator && !config.GENESYS_API_BASE) {
  run('genesys-sim', 'apps/genesys-sim/src/main.ts', 3);
  await waitForHttp(`http://127.0.0.1:${config.SIM_PORT}/__sim/stats`, 'the Genesys simulator');
  // Seed the target queue so the first call has capacity to look at (change it with PUT /__sim/queues/{id}).
  const seed = { idle: config.OCCUPANCY_THRESHOLD + 1, interacting: 4, waiting: 1 };
  await fetch(`http://127.0.0.1:${config.SIM_PORT}/__sim/queues/${encodeURIComponent(config.TARGET_QUEUE_ID)}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(seed),
  });
  console.log(`[start]   ${'simulator'.padEnd(14)} queue ${config.TARGET_QUEUE_ID} seeded with ${seed.idle} idle agents (threshold ${config.OCCUPANCY_THRESHOLD}); PUT /__sim/queues/${config.TARGET_QUEUE_ID} to change`);
  console.log(`[start]   ${'simulator'.padEnd(14)} calls exist only once created: PUT /__sim/conversations/{id} {"participants":[{"id","purpose":"customer"}]} (README walkthrough)`);
}
for (let i = 0; i < workers; i++) run(`worker-${i + 1}`, 'apps/worker/src/main.ts', 1, { WORKER_INDEX: String(i + 1) });
run('receiver', 'apps/receiver/src/main.ts', 0);
run('dashboard', 'apps/dashboard/src/main.ts', 2);

const GROUPS = ['receiver', 'workers', 'dashboard', 'simulator', 'redis'];
// Each group gets the apps' own grace (SHUTDOWN_GRACE_MS, through the zod config they read too) plus 5 s to exit.
const groupGraceMs = config.SHUTDOWN_GRACE_MS + 5000;

/** SIGTERM one group, wait for every process of it to exit (SIGKILL after the grace), in order. */
async function stop(code: number, why: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`[start] stopping in order (${why}): receiver, workers, dashboard, simulator, redis`);
  for (const order of [0, 1, 2, 3, 4]) {
    const group = children.filter((c) => c.order === order && alive(c));
    if (!group.length) continue;
    console.log(`[start] stopping ${GROUPS[order]} (${group.map((c) => c.name).join(', ')})`);
    await Promise.all(
      group.map(
        (c) =>
          new Promise<void>((res) => {
            if (!alive(c)) return res();
            const timer = setTimeout(() => {
              console.error(`[start] ${c.name} did not stop within ${groupGraceMs} ms; SIGKILL`);
              kill(c, 'SIGKILL');
            }, groupGraceMs);
            c.proc.once('exit', (exitCode, signal) => {
              clearTimeout(timer);
              if (exitCode !== 0 && c.order !== 4) code = code || 1;
              console.log(`[start] ${c.name} stopped (${signal ?? exitCode})`);
              res();
            });
            kill(c, 'SIGTERM');
          }),
      ),
    );
  }
  cleanUp();
  console.log('[start] stopped');
  process.exit(code);
}

function kill(c: Child, signal: NodeJS.Signals): void {
  try {
    process.kill(-c.proc.pid!, signal); // the child's whole group (a cluster receiver's forks too)
  } catch {
    try {
      c.proc.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** Remove what the run leaves behind: the private Redis' directory, heatmap temp files of our children. */
function cleanUp(): void {
  if (redisDir) rmSync(redisDir, { recursive: true, force: true });
  const pids = new Set(children.map((c) => String(c.proc.pid)));
  const dir = resolve(root, config.REPORTS_DIR);
  try {
    for (const f of readdirSync(dir)) {
      const m = /^heatmap\.html\.(\d+)\.[0-9a-f]+\.tmp$/.exec(f);
      if (m && pids.has(m[1]!)) rmSync(join(dir, f), { force: true });
    }
  } catch {
    // no reports directory: nothing to remove
  }
}

function onSignal(signal: string): void {
  signals++;
  if (!stopping) return void stop(0, signal);
  if (signals === 2) {
    console.log(`[start] ${signal}: already stopping in order (in-flight jobs finish); send it once more to force (kills every process now)`);
    return;
  }
  console.error(`[start] ${signal}: forced stop, SIGKILL to every process (jobs in flight come back through the stalled-job check)`);
  for (const c of children) if (alive(c)) kill(c, 'SIGKILL');
  cleanUp();
  process.exit(130);
}
process.on('SIGINT', () => onSignal('SIGINT'));
process.on('SIGTERM', () => onSignal('SIGTERM'));
process.on('SIGHUP', () => onSignal('SIGHUP'));
// `kill -TERM` on pnpm: pnpm exits without signalling us and we are re-parented. Stop in order then too.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent && !stopping) void stop(0, 'parent process exited');
}, 250).unref();
// Never leave a child behind, whatever ends this process.
process.on('exit', () => {
  for (const c of children) if (alive(c)) kill(c, 'SIGKILL');
});

async function waitForHttp(url: string, what: string, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  console.error(`[start] ${what} did not come up at ${url} within ${timeoutMs} ms`);
  await stop(1, `${what} did not come up`);
}
