import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startRedisServer } from '@ivr/testing';
import { LOG_DIR } from './procs';

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
 * A private redis-server (@ivr/testing's startRedisServer: free loopback port, no persistence, noeviction like
 * production's policy), so memory and command counts measure only the bench; its log in LOG_DIR.
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const server = await startRedisServer({ logFile: join(LOG_DIR, 'redis-server.log') });
  const admin = new Redis(server.url, { maxRetriesPerRequest: 3 });
  admin.on('error', () => undefined);
  const info = await admin.info('server');
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  return {
    url: server.url,
    pid: server.pid,
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
      await server.stop();
    },
  };
}
