/**
 * The worker's `client` connection may run with ioredis auto-pipelining. ioredis copies the Lua commands defined on a
 * connection onto each auto-pipeline when it creates it (Pipeline constructor, `redis.scriptsSet`); a pipeline stays
 * queued (and keeps collecting commands) for as long as the previous one is in flight. A script defined while one is
 * queued is missing from it: the call rejects with "pipeline[functionName] is not a function", and because its
 * callback was already registered, every later reply in that pipeline goes to the wrong caller and the process dies
 * with "results[i] is not iterable" (ioredis autoPipelining.js). The apply processor used to define its two scripts
 * on its first job; on 3 worker processes under load that killed every process (24 decide jobs stuck active).
 * The scripts are now defined up front (`defineApplyScripts`, called by startWorkers before any job).
 */
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deletePrefix, silentLogger, TEST_REDIS_URL, uniquePrefix } from '@ivr/testing';
import { keyspace } from '@ivr/queue-contract';
import { createConversationStore } from '../conversation-store';
import { defineApplyScripts, processApply, type ApplyDeps } from './apply';

describe('apply on an auto-pipelined connection', () => {
  let redis: Redis;
  let prefix: string;
  beforeEach(async () => {
    prefix = uniquePrefix('apply-ap');
    // A fresh connection: no script defined on it yet, as in a worker process that just started.
    redis = new Redis(TEST_REDIS_URL, { enableAutoPipelining: true, maxRetriesPerRequest: 3 });
    await redis.ping();
  });
  afterEach(async () => {
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  it('the first job runs while another command is queued in the same auto-pipeline, and every reply reaches its caller', async () => {
    const ks = keyspace(prefix);
    const conversations = createConversationStore(redis, ks, 60);
    defineApplyScripts(redis); // what startWorkers does before any job
    await conversations.startDecision('conv-1', 'key-1', 1000);
    await conversations.commitDecision('conv-1', 'key-1', 1, { routing: 'A' });
    await redis.set(`${ks.root}probe`, 'probe-value');

    const patched: string[] = [];
    const outcomes: unknown[] = [];
    const deps: ApplyDeps = {
      resolveParticipant: async () => {
        throw new Error('the job names its participant: nothing to resolve');
      },
      recordOutcome: async (o) => {
        outcomes.push(o);
      },
      patchAttributes: async (cid) => {
        patched.push(cid);
        return { status: 200 };
      },
      classify: () => ({ kind: 'fatal', message: 'unexpected' }),
      redis,
      ks,
      rateLimit: async () => undefined,
      logger: silentLogger,
    };
    const job = {
      id: 'apply-1',
      attemptsMade: 0,
      timestamp: Date.now(),
      data: { decisionId: 'd-1', idempotencyKey: 'key-1', conversationId: 'conv-1', participantId: 'p-1', sequence: 1, attributes: { finalRoutingDecision: 'A' } },
    };
    // Queue a command first: the apply's scripts go into the auto-pipeline this GET opened, in the same tick.
    const probe = redis.get(`${ks.root}probe`);
    const applied = processApply(job, deps);
    const after = redis.get(`${ks.root}probe`);
    expect(await applied).toMatchObject({ status: 'applied', httpStatus: 200, sequence: 1, writeStatus: 'written', participantId: 'p-1' });
    expect(await probe).toBe('probe-value');
    expect(await after).toBe('probe-value');
    expect(patched).toEqual(['conv-1']);
    expect(outcomes).toEqual([{ decisionId: 'd-1', writeStatus: 'written', writtenAt: expect.any(String) }]);
    expect(await conversations.get('conv-1')).toMatchObject({ state: 'COMPLETE', seq: 1 });
  });
});
