/**
 * `pnpm start [--workers N]`: run the whole system on this machine as separate processes:
 * the Genesys simulator (when no GENESYS_CLIENT_ID is set), N worker processes, the receiver and the dashboard.
 * Ctrl-C stops the receiver first (no new webhooks), then the workers (in-flight jobs finish), then the rest.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { ConfigError, describeParts, loadConfig } from '@ivr/config';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function parseArgs(argv: string[]): { workers: number } {
  let workers = Number(process.env.WORKER_PROCESSES ?? 1);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--workers') workers = Number(argv[++i]);
    else if (a.startsWith('--workers=')) workers = Number(a.slice(10));
    else if (a === '--help' || a === '-h') {
      console.log('usage: pnpm start [--workers N]   (env: WORKER_PROCESSES, and every variable in .env.example)');
      process.exit(0);
    } else {
      console.error(`unknown argument ${a}; usage: pnpm start [--workers N]`);
      process.exit(64);
    }
  }
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
    console.error(`--workers must be an integer 1-64 (got ${workers})`);
    process.exit(64);
  }
  return { workers };
}

const { workers } = parseArgs(process.argv.slice(2));
let config;
try {
  config = loadConfig(process.env);
} catch (e) {
  console.error(e instanceof ConfigError ? e.message : e);
  process.exit(78);
}

const children: Array<{ name: string; proc: ChildProcess; order: number }> = [];
function run(name: string, entry: string, order: number, env: Record<string, string> = {}): ChildProcess {
  const proc = spawn(process.execPath, ['--import', 'tsx', resolve(root, entry)], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.push({ name, proc, order });
  proc.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`[start] ${name} exited (${signal ?? code}); stopping everything`);
      void stop(1);
    }
  });
  return proc;
}

const parts = describeParts(config);
console.log('[start] IVR routing orchestrator');
for (const [k, v] of Object.entries(parts)) console.log(`[start]   ${k.padEnd(14)} ${v}`);
console.log(`[start]   ${'workers'.padEnd(14)} ${workers} process(es), roles ${config.WORKER_ROLES.join(',')}`);
console.log(`[start]   ${'receiver'.padEnd(14)} http://127.0.0.1:${config.RECEIVER_PORT}/webhook/genesys-dtmf`);
console.log(`[start]   ${'dashboard'.padEnd(14)} http://127.0.0.1:${config.DASHBOARD_PORT}/admin/queues${config.ADMIN_TOKEN ? ' (ADMIN_TOKEN required)' : ' (bound to 127.0.0.1; set ADMIN_TOKEN to expose it)'}`);

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

let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  for (const order of [0, 1, 2, 3]) {
    const group = children.filter((c) => c.order === order && c.proc.exitCode === null && c.proc.signalCode === null);
    await Promise.all(
      group.map(
        (c) =>
          new Promise<void>((res) => {
            c.proc.once('exit', () => res());
            c.proc.kill('SIGTERM');
          }),
      ),
    );
  }
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

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
  await stop(1);
}
