import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { testRedis, TEST_REDIS_URL } from '@ivr/testing';
import { createDecisionWaiter } from './decision-waiter';
import { keyspace, type Keyspace } from '@ivr/queue-contract';

type Answer = { routing: string };

describe('createDecisionWaiter (real Redis pub/sub)', () => {
  let t: ReturnType<typeof testRedis>;
  let subscriber: Redis;
  let ks: Keyspace;
  beforeEach(() => {
    t = testRedis('waiter');
    subscriber = new Redis(TEST_REDIS_URL);
    ks = keyspace(t.prefix);
  });
  afterEach(async () => {
    subscriber.disconnect();
    await t.cleanup();
  });

  /** A waiter whose lookup finds `stored`, and publishes `onLookup[key]` once the wait is registered (lookup runs then). */
  function waiter(stored: Record<string, Answer> = {}, onLookup: Record<string, Answer> = {}) {
    const looked: string[] = [];
    const w = createDecisionWaiter<Answer>({
      subscriber,
      ks,
      lookup: async (key) => {
        looked.push(key);
        const later = onLookup[key];
        if (later) await t.redis.publish(ks.decisionChannel(key), JSON.stringify(later));
        return stored[key];
      },
    });
    return { w, looked };
  }

  it('a decision published while the request waits answers it', async () => {
    const { w } = waiter({}, { k1: { routing: 'route_to_queue' } });
    expect(await w.wait('k1', 5000)).toEqual({ routing: 'route_to_queue' });
    await w.close();
  });

  it('a decision made before the wait began is read from the store (not missed)', async () => {
    const { w, looked } = waiter({ k1: { routing: 'route_to_vm' } });
    expect(await w.wait('k1', 5000)).toEqual({ routing: 'route_to_vm' });
    expect(looked).toEqual(['k1']);
    await w.close();
  });

  it('no decision within the deadline: undefined', async () => {
    const { w } = waiter();
    expect(await w.wait('k1', 30)).toBeUndefined();
    await w.close();
  });

  it('every waiter of a key gets its decision, a waiter of another key does not', async () => {
    const { w } = waiter({}, { k2: { routing: 'route_to_queue' } });
    const [a, b, other] = await Promise.all([w.wait('k2', 5000), w.wait('k2', 5000), w.wait('k3', 200)]);
    expect(a).toEqual({ routing: 'route_to_queue' });
    expect(b).toEqual({ routing: 'route_to_queue' });
    expect(other).toBeUndefined();
    await w.close();
  });

  it('one pattern subscription per waiter, however many waits', async () => {
    const id = await subscriber.client('ID'); // before it enters subscriber mode
    const { w } = waiter({ a: { routing: 'x' }, b: { routing: 'y' } });
    await Promise.all([w.wait('a', 1000), w.wait('b', 1000)]);
    // our subscriber holds exactly the one pattern for this prefix
    const clients = (await t.redis.client('LIST')) as string;
    const line = clients.split('\n').find((l) => l.startsWith(`id=${id} `));
    expect(line).toMatch(/ psub=1 /);
    await w.close();
  });
});
