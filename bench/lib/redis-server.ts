import { Redis } from 'ioredis';
import { freePort, runBin, sleep, type Child } from './procs';

export interface PrivateRedis {
  url: string;
  pid: number | undefined;
  admin: Redis;
  version: string;
  usedMemory(): Promise<number>;
  /** Calls per command since the last reset (INFO commandstats). */
  commandCalls(): Promise<Record<string, number>>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A private redis-server on a free loopback port, no persistence, noeviction (like production's policy),
 * so memory and command counts measure only the bench. Falls back to nothing: the caller decides.
 */
export async function startPrivateRedis(bin = process.env.REDIS_SERVER_BIN ?? 'redis-server'): Promise<PrivateRedis> {
  const port = await freePort();
  let child: Child;
  try {
    child = runBin('redis-server', bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--protected-mode', 'yes']);
  } catch (e) {
    throw new Error(`cannot start ${bin} (install redis-server or set REDIS_SERVER_BIN): ${(e as Error).message}`);
  }
  const failed = new Promise<never>((_, rej) => child.proc.once('error', (e) => rej(new Error(`cannot start ${bin} (install redis-server or set REDIS_SERVER_BIN): ${e.message}`))));
  const url = `redis://127.0.0.1:${port}`;
  const admin = new Redis(url, { maxRetriesPerRequest: 3, lazyConnect: true, retryStrategy: (t) => (t > 50 ? null : 100) });
  admin.on('error', () => undefined); // connect errors are retried below and reported with the server's output
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await Promise.race([admin.connect(), failed]);
      break;
    } catch (e) {
      if (Date.now() > deadline || child.proc.exitCode !== null) {
        admin.disconnect();
        await child.stop();
        throw new Error(`private redis-server on port ${port} did not start: ${(e as Error).message}\n${child.tail()}`);
      }
      admin.disconnect();
      await sleep(100);
    }
  }
  const info = await admin.info('server');
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  return {
    url,
    pid: child.proc.pid,
    admin,
    version,
    async usedMemory() {
      const m = await admin.info('memory');
      return Number(/used_memory:(\d+)/.exec(m)?.[1] ?? NaN);
    },
    async commandCalls() {
      const s = await admin.info('commandstats');
      const out: Record<string, number> = {};
      for (const m of s.matchAll(/cmdstat_([^:]+):calls=(\d+)/g)) out[m[1]!] = Number(m[2]);
      return out;
    },
    async reset() {
      await admin.flushall();
      await admin.config('RESETSTAT');
    },
    async stop() {
      admin.disconnect();
      await child.stop();
    },
  };
}
