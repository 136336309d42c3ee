import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testRedis } from '@ivr/testing';
import { createConversationStore } from './conversation-store';
import { keyspace } from './names';

describe('conversation state machine in Redis', () => {
  let t: ReturnType<typeof testRedis>;
  beforeEach(() => {
    t = testRedis('conv');
  });
  afterEach(() => t.cleanup());

  it('walks WAITING_DTMF -> CHECKING_QUEUE -> ROUTING -> COMPLETE and rejects other moves', async () => {
    const s = createConversationStore(t.redis, keyspace(t.prefix), 60);
    const b = await s.begin('c', 'k1');
    expect(b).toEqual({ kind: 'new', seq: 1, state: 'NONE' });
    expect((await s.advance('c', 1, 'CHECKING_QUEUE', 'ROUTING')).kind).toBe('invalid');
    expect((await s.advance('c', 1, 'WAITING_DTMF', 'CHECKING_QUEUE')).kind).toBe('ok');
    expect((await s.commitDecision('c', 'k1', 1, { r: 1 })).kind).toBe('ok');
    expect(await s.get('c')).toMatchObject({ state: 'ROUTING', seq: 1, key: 'k1' });
    expect((await s.advance('c', 1, 'ROUTING', 'COMPLETE')).kind).toBe('ok');
    expect((await s.advance('c', 1, 'ROUTING', 'COMPLETE')).kind).toBe('invalid');
  });

  it('of two workers racing the same transition, exactly one moves the conversation', async () => {
    const s = createConversationStore(t.redis, keyspace(t.prefix), 60);
    await s.begin('c', 'k1');
    const r = await Promise.all(Array.from({ length: 20 }, () => s.advance('c', 1, 'WAITING_DTMF', 'CHECKING_QUEUE')));
    expect(r.filter((x) => x.kind === 'ok')).toHaveLength(1);
  });

  it('commitDecision stores one decision per key; a re-run gets the stored one back', async () => {
    const s = createConversationStore(t.redis, keyspace(t.prefix), 60);
    await s.begin('c', 'k1');
    await s.advance('c', 1, 'WAITING_DTMF', 'CHECKING_QUEUE');
    await s.commitDecision('c', 'k1', 1, { route: 'a' });
    const again = await s.commitDecision('c', 'k1', 1, { route: 'b' });
    expect(again).toEqual({ kind: 'exists', decision: { route: 'a' } });
    expect(await s.begin('c', 'k1')).toMatchObject({ kind: 'resume', seq: 1 });
  });

  it('a later press supersedes an older decision still in flight; an older press arriving late is stale', async () => {
    const s = createConversationStore(t.redis, keyspace(t.prefix), 60);
    await s.begin('c', 'old', 1000);
    await s.advance('c', 1, 'WAITING_DTMF', 'CHECKING_QUEUE');
    expect(await s.begin('c', 'new', 2000)).toMatchObject({ kind: 'new', seq: 2 });
    expect((await s.commitDecision('c', 'old', 1, {})).kind).toBe('superseded');
    expect((await s.begin('c', 'older', 500)).kind).toBe('stale');
  });
});

describe('startDecision (one round trip)', () => {
  let t: ReturnType<typeof testRedis>;
  beforeEach(() => {
    t = testRedis('conv2');
  });
  afterEach(() => t.cleanup());

  it('moves a new press to CHECKING_QUEUE, resumes the same key, replays a stored decision, rejects a stale press', async () => {
    const s = createConversationStore(t.redis, keyspace(t.prefix), 60);
    expect(await s.startDecision('c', 'k1', 1000)).toEqual({ kind: 'new', seq: 1, previousState: 'IDLE' });
    expect(await s.get('c')).toMatchObject({ state: 'CHECKING_QUEUE', seq: 1 });
    expect(await s.startDecision('c', 'k1', 1000)).toEqual({ kind: 'resume', seq: 1, previousState: 'CHECKING_QUEUE' });
    await s.commitDecision('c', 'k1', 1, { route: 'q' });
    expect(await s.startDecision('c', 'k1', 1000)).toEqual({ kind: 'decided', decision: { route: 'q' } });
    expect((await s.startDecision('c', 'k0', 500)).kind).toBe('stale');
    expect(await s.startDecision('c', 'k2', 2000)).toEqual({ kind: 'new', seq: 2, previousState: 'ROUTING' });
  });

  it('a key whose conversation moved on without its decision (ROUTING under its seq, decision expired) is invalid', async () => {
    const s = createConversationStore(t.redis, keyspace(t.prefix), 60);
    await s.startDecision('c', 'k1', 1000);
    await s.commitDecision('c', 'k1', 1, {});
    await t.redis.del(keyspace(t.prefix).decision('k1'));
    expect((await s.startDecision('c', 'k1', 1000)).kind).toBe('invalid');
  });
});
