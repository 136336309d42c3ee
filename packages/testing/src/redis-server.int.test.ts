import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServer } from './redis-server';

describe('startRedisServer: a private redis-server', () => {
  const started: RedisServer[] = [];
  afterAll(async () => {
    await Promise.all(started.map((s) => s.stop()));
  });

  it('with appendOnly, SHUTDOWN + start keeps the data (same port and directory); stop removes the directory', async () => {
    const rs = await startRedisServer({ appendOnly: true, maxmemory: '64mb' });
    started.push(rs);
    const c = new Redis(rs.url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    c.on('error', () => undefined);
    await c.connect();
    await c.set('k', 'v');
    expect(await c.config('GET', 'maxmemory')).toEqual(['maxmemory', String(64 * 1024 * 1024)]);
    expect(await c.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    c.disconnect();
    const pid = rs.pid;
    await rs.shutdown();
    expect(rs.pid).toBeUndefined();
    await rs.start();
    expect(rs.pid).not.toBe(pid);
    const again = new Redis(rs.url, { maxRetriesPerRequest: 0 });
    expect(await again.get('k')).toBe('v');
    again.disconnect();
    await rs.stop();
    expect(existsSync(rs.dir)).toBe(false);
  });

  it('without appendOnly nothing survives a restart; kill ends it', async () => {
    const rs = await startRedisServer();
    started.push(rs);
    const c = new Redis(rs.url, { maxRetriesPerRequest: 0 });
    await c.set('k', 'v');
    c.disconnect();
    await rs.kill();
    expect(rs.pid).toBeUndefined();
    await rs.start();
    const again = new Redis(rs.url, { maxRetriesPerRequest: 0 });
    expect(await again.get('k')).toBeNull();
    again.disconnect();
  });

  it('a missing binary or a refused option: one line naming the cause, no process left', async () => {
    await expect(startRedisServer({ bin: '/nonexistent/redis-server' })).rejects.toThrow(/cannot start \/nonexistent\/redis-server \(install it with scripts\/setup\.sh, or set REDIS_SERVER_BIN\)/);
    await expect(startRedisServer({ args: ['--no-such-option', 'x'] })).rejects.toThrow(/did not start: .*no-such-option/s);
  });
});
