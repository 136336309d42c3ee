/**
 * A private redis-server for tests, chaos and bench that need a Redis of their own: to stop, freeze (SIGSTOP),
 * restart with its data, cap its memory, or count its commands without anyone else's. The shared Redis of the
 * other tests is `TEST_REDIS_URL` (prefix.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './ports';
import { waitFor } from './wait';

export interface RedisServerOptions {
  /** Default: a free port. */
  port?: number;
  /** AOF on (fsync every second, no RDB snapshots): the data survives `shutdown()` + `start()`. Default: no persistence. */
  appendOnly?: boolean;
  /** `--maxmemory`, e.g. `10mb` (the policy is always noeviction, as production requires). */
  maxmemory?: string;
  /** The server's log file (default: in its data directory, removed by `stop()`). */
  logFile?: string;
  /** More redis-server arguments, e.g. `['--cluster-enabled', 'yes']`. */
  args?: string[];
  /** Default: REDIS_SERVER_BIN or `redis-server` on PATH. */
  bin?: string;
}

export interface RedisServer {
  port: number;
  url: string;
  /** Its data directory (a fresh temporary one; removed by `stop()`). */
  dir: string;
  /** The running server's pid (for SIGSTOP/SIGCONT), undefined while it is not running. */
  readonly pid: number | undefined;
  /** (Re)start on the same port and directory; resolves once it answers PING. */
  start(): Promise<void>;
  /** SHUTDOWN: the server writes its AOF and exits; `start()` brings the data back (with `appendOnly`). */
  shutdown(): Promise<void>;
  /** Send `signal` (default SIGKILL; one that ends the process, not SIGSTOP) and wait for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Kill it if it runs and remove its directory. */
  stop(): Promise<void>;
}

const probeOptions = { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null } as const;

/** Start a private redis-server on 127.0.0.1 (see `RedisServerOptions`); resolves once it answers PING. */
export async function startRedisServer(opts: RedisServerOptions = {}): Promise<RedisServer> {
  const port = opts.port ?? (await freePort());
  const bin = opts.bin ?? process.env.REDIS_SERVER_BIN ?? 'redis-server';
  const dir = mkdtempSync(join(tmpdir(), 'ivr-redis-'));
  const logFile = opts.logFile ?? join(dir, 'redis-server.log');
  const url = `redis://127.0.0.1:${port}`;
  const args = [
    ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--logfile', logFile, '--save', '', '--maxmemory-policy', 'noeviction'],
    ...(opts.appendOnly ? ['--appendonly', 'yes', '--appendfsync', 'everysec'] : ['--appendonly', 'no']),
    ...(opts.maxmemory ? ['--maxmemory', opts.maxmemory] : []),
    ...(opts.args ?? []),
  ];
  let child: ChildProcess | undefined;
  let alive = false;
  let exited: Promise<void> = Promise.resolve();
  const running = () => alive;

  const server: RedisServer = {
    port,
    url,
    dir,
    get pid() {
      return running() ? child?.pid : undefined;
    },
    async start() {
      if (running()) return;
      let stderr = '';
      const c = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      c.once('error', (e) => (stderr += `cannot start ${bin} (install it with scripts/setup.sh, or set REDIS_SERVER_BIN): ${e.message}`));
      alive = true;
      exited = new Promise((r) => {
        const end = () => ((alive = false), r());
        c.once('close', end);
        c.once('error', end);
      });
      child = c;
      const probe = new Redis(url, probeOptions);
      probe.on('error', () => undefined);
      try {
        await waitFor(
          async () => {
            if (!alive) throw new Error(`private redis-server on port ${port} did not start: ${stderr.trim() || `exit ${c.exitCode}`}\n${logTail(logFile)}`);
            if (probe.status !== 'ready') await probe.connect().catch(() => probe.disconnect());
            return (await probe.ping().catch(() => '')) === 'PONG';
          },
          `private redis-server on port ${port}`,
          10000,
          50,
        );
      } catch (e) {
        if (alive) c.kill('SIGKILL');
        throw e;
      } finally {
        probe.disconnect();
      }
    },
    async shutdown() {
      if (!running()) return;
      const c = new Redis(url, { maxRetriesPerRequest: 0 });
      c.on('error', () => undefined);
      await c.call('SHUTDOWN').catch(() => undefined); // the connection closes as the server exits
      c.disconnect();
      await exited;
    },
    async kill(signal = 'SIGKILL') {
      if (!running()) return;
      child!.kill(signal);
      await exited;
    },
    async stop() {
      await server.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

function logTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-10).join('\n');
  } catch {
    return '';
  }
}
