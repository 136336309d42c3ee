/**
 * coalesceWrites on a real socket to a real Redis: what one turn's commands cost in syscalls is what Node's stream
 * hands the socket (`_write` per chunk, `_writev` for a corked batch), counted on the connection's own socket.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { TEST_REDIS_URL, uniquePrefix, waitFor } from '@ivr/testing';
import { createRedis } from './redis';

type Writes = { write: number; writev: number; chunks: number };

/** Counts the socket's write syscalls from now on (its `_write` and `_writev`, as Node's Writable calls them). */
function countWrites(redis: Redis): Writes {
  const socket = (redis as unknown as { stream: { _write: (...a: unknown[]) => void; _writev: (chunks: unknown[], cb: unknown) => void } }).stream;
  const n: Writes = { write: 0, writev: 0, chunks: 0 };
  const [write, writev] = [socket._write, socket._writev];
  socket._write = (...a: unknown[]) => (n.write++, n.chunks++, write.apply(socket, a));
  socket._writev = (chunks: unknown[], cb: unknown) => (n.writev++, (n.chunks += chunks.length), writev.call(socket, chunks, cb));
  return n;
}

/** 50 commands issued in one turn, awaited together; their replies in order. */
async function oneTurn(redis: Redis, prefix: string): Promise<unknown[]> {
  const sets = Array.from({ length: 25 }, (_, i) => redis.set(`${prefix}:${i}`, String(i), 'EX', 60));
  const gets = Array.from({ length: 25 }, (_, i) => redis.get(`${prefix}:${i}`));
  return Promise.all([...sets, ...gets]);
}

describe('coalesceWrites (createRedis connections)', () => {
  const opened: Redis[] = [];
  afterEach(() => {
    for (const r of opened.splice(0)) r.disconnect();
  });
  const open = async (r: Redis) => {
    opened.push(r);
    await r.ping();
    return r;
  };

  it("one turn's 50 commands go out in one writev, and every reply is right", async () => {
    const redis = await open(createRedis(TEST_REDIS_URL, 'client'));
    const n = countWrites(redis);
    const replies = await oneTurn(redis, uniquePrefix('coalesce'));
    expect(replies).toEqual([...Array(25).fill('OK'), ...Array.from({ length: 25 }, (_, i) => String(i))]);
    expect(n).toEqual({ write: 0, writev: 1, chunks: 50 });
  });

  it('without it (a plain ioredis connection) the same turn is 50 writes: what it saves', async () => {
    const plain = await open(new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 3 }));
    const n = countWrites(plain);
    await oneTurn(plain, uniquePrefix('plain'));
    expect(n.write + n.writev).toBe(50);
  });

  it('commands of separate turns are not held back: each is sent in its own turn', async () => {
    const redis = await open(createRedis(TEST_REDIS_URL, 'client'));
    const n = countWrites(redis);
    for (let i = 0; i < 3; i++) expect(await redis.ping()).toBe('PONG');
    expect(n.write + n.writev).toBe(3);
  });

  it('a reconnected connection (new socket) is coalesced too', async () => {
    const redis = await open(createRedis(TEST_REDIS_URL, 'worker', { connectionName: 'ivr-coalesce-test' }));
    const admin = await open(new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 3 }));
    const before = (redis as unknown as { stream: object }).stream;
    const id = await redis.client('ID');
    await admin.client('KILL', 'ID', String(id));
    await waitFor(() => redis.status === 'ready' && (redis as unknown as { stream: object }).stream !== before, 'the connection to come back on a new socket');
    const n = countWrites(redis);
    await oneTurn(redis, uniquePrefix('again'));
    expect(n).toEqual({ write: 0, writev: 1, chunks: 50 });
  });
});
