/** The report batcher's second kind of job (write outcomes) against the real embedded store (real Redis). */
import { UnrecoverableError } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createReportBatcher } from '@ivr/pipeline';
import { silentLogger, testRedis } from '@ivr/testing';
import { createEmbeddedStore } from './embedded-store';
import { makeDoc } from './fixtures';

describe('write outcomes through the report batcher (embedded store)', () => {
  let t: ReturnType<typeof testRedis>;
  beforeEach(() => {
    t = testRedis('outcomes');
  });
  afterEach(() => t.cleanup());

  const setup = () => {
    const store = createEmbeddedStore(t.redis, t.prefix);
    const batcher = createReportBatcher({ store, batchSize: 100, lingerMs: 10, logger: silentLogger });
    const read = async (id: string) => JSON.parse((await t.redis.hget(`${t.prefix}:ivr:store:docs`, id)) ?? 'null') as Record<string, unknown> | null;
    return { store, batcher, read };
  };

  it('an outcome and its decision in the same batch: the decision is stored first, the outcome lands on it', async () => {
    const { batcher, read } = setup();
    const [outcome, doc] = await Promise.all([batcher.addOutcome({ decisionId: 'd-1', writeStatus: 'written', writtenAt: '2024-03-01T10:00:00.000Z' }), batcher.add(makeDoc(1))]);
    expect([outcome, doc]).toEqual(['recorded', 'written']);
    expect(await read('d-1')).toMatchObject({ decisionId: 'd-1', writeStatus: 'written', writtenAt: '2024-03-01T10:00:00.000Z' });
  });

  it('an outcome that arrives before its decision waits for a later batch instead of failing the attempt', async () => {
    const { batcher, read } = setup();
    const outcome = batcher.addOutcome({ decisionId: 'd-2', writeStatus: 'failed', writeReason: 'conversation c-2 is unknown to Genesys' });
    await batcher.flush(); // one batch without the decision
    await batcher.add(makeDoc(2));
    expect(await outcome).toBe('recorded');
    expect(await read('d-2')).toMatchObject({ writeStatus: 'failed', writeReason: 'conversation c-2 is unknown to Genesys' });
    expect(batcher.stats().docs).toBe(1);
  });

  it('a decision that never comes: the attempt fails retryable (BullMQ retries it later), not for good', async () => {
    const { batcher } = setup();
    const outcome = batcher.addOutcome({ decisionId: 'd-missing', writeStatus: 'written', writtenAt: '2024-03-01T10:00:00.000Z' });
    const err = await outcome.then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(UnrecoverableError);
    expect(err!.message).toMatch(/^write outcome for d-missing not recorded \(will retry\): decision d-missing is not stored yet/);
  });
});
