import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServer } from '@ivr/testing';
import { assertRedisMemory, checkRedisMemory, memoryVerdict, MIN_REDIS_MAXMEMORY_BYTES } from './redis';

const MB = 1024 * 1024;

describe('Redis memory check at start (issue 13 item 8)', () => {
  it('refuses below the minimum maxmemory or at 95 % used; warns from 80 %; no limit passes', () => {
    expect(memoryVerdict(5 * MB, 0).level).toBe('ok');
    expect(memoryVerdict(1 * MB, 10 * MB)).toMatchObject({ level: 'refuse', reason: expect.stringMatching(/maxmemory is 10 MB, below the 64 MB/) });
    expect(memoryVerdict(50 * MB, 100 * MB).level).toBe('ok');
    expect(memoryVerdict(85 * MB, 100 * MB)).toMatchObject({ level: 'warn', reason: 'Redis memory is 85 % full (85 MB of maxmemory 100 MB)' });
    expect(memoryVerdict(96 * MB, 100 * MB)).toMatchObject({ level: 'refuse', reason: expect.stringMatching(/^Redis memory is 96 % full .*raise maxmemory, lower STORE_RETENTION_DAYS/) });
  });

  describe('against a private redis-server', () => {
    let server: RedisServer;
    let redis: Redis;
    beforeAll(async () => {
      server = await startRedisServer({ maxmemory: '10mb' });
      redis = new Redis(server.url, { maxRetriesPerRequest: 0 });
      redis.on('error', () => undefined);
    });
    afterAll(async () => {
      redis?.disconnect();
      await server?.stop();
    });

    it('maxmemory 10mb: the start is refused with a one-line reason', async () => {
      expect(await checkRedisMemory(redis)).toMatchObject({ level: 'refuse', maxBytes: 10 * MB });
      await expect(assertRedisMemory(redis, { warn: () => undefined })).rejects.toMatchObject({ name: 'StartupError', message: expect.stringMatching(/^Redis maxmemory is 10 MB/) });
    });

    it('nearly full: refused at 95 %, a warning at 80 %', async () => {
      await redis.config('SET', 'maxmemory', String(MIN_REDIS_MAXMEMORY_BYTES * 4));
      await redis.set('ballast', Buffer.alloc(70 * MB, 1));
      const used = (await checkRedisMemory(redis))!.usedBytes;
      await redis.config('SET', 'maxmemory', String(Math.floor(used / 0.97)));
      await expect(assertRedisMemory(redis, { warn: () => undefined })).rejects.toThrow(/% full/);
      await redis.config('SET', 'maxmemory', String(Math.floor(used / 0.85)));
      const warnings: string[] = [];
      await assertRedisMemory(redis, { warn: (_o, m) => void warnings.push(m ?? '') });
      expect(warnings).toEqual(['Redis memory nearly full']);
    });
  });
});
