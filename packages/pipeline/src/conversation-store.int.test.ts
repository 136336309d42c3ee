import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VALID_TRANSITIONS } from '@ivr/core';
import { testRedis } from '@ivr/testing';
import { createConversationStore, transitionLua, type TransitionTable } from './conversation-store';
import { defineApplyScripts } from './processors/apply';
import { keyspace } from '@ivr/queue-contract';

describe('conversation state machine in Redis', () => {
  let t: ReturnType<typeof testRedis>;
  beforeEach(() => {
    t = testRedis('conv');
  });
  afterEach(() => t.cleanup());

  it('walks IDLE -> CHECKING_QUEUE -> ROUTING -> COMPLETE and rejects other moves', async () => {
    const ks = keyspace(t.prefix);
    const s = createConversationStore(t.redis, ks, 60);
    expect(await s.startDecision('c', 'k1', 1000)).toEqual({ kind: 'new', seq: 1, previousState: 'IDLE' });
    expect((await s.commitDecision('c', 'k1', 1, { r: 1 })).kind).toBe('ok');
    expect(await s.get('c')).toMatchObject({ state: 'ROUTING', seq: 1, key: 'k1' });
    // ROUTING -> ROUTING is not a move: with the stored decision gone, a second commit is refused
    await t.redis.del(ks.decision('k1'));
    expect(await s.commitDecision('c', 'k1', 1, { r: 2 })).toEqual({ kind: 'invalid', detail: 'ROUTING' });
    // ROUTING -> COMPLETE is apply's end script (after the write); once COMPLETE it stays COMPLETE
    const end = defineApplyScripts(t.redis).end;
    await end([ks.applyLock('c'), ks.conversation('c')], ['tok', 1, 2000]);
    expect(await s.get('c')).toMatchObject({ state: 'COMPLETE', seq: 1 });
    expect(await s.commitDecision('c', 'k1', 1, { r: 3 })).toEqual({ kind: 'invalid', detail: 'COMPLETE' });
  });

  it('of two workers racing the same transition, exactly one moves the conversation', async () => {
    const s = createConversationStore(t.redis, keyspace(t.prefix), 60);
    const starts = await Promise.all(Array.from({ length: 20 }, () => s.startDecision('c', 'k1', 1000)));
    expect(starts.filter((x) => x.kind === 'new')).toHaveLength(1);
    const commits = await Promise.all(Array.from({ length: 20 }, (_, i) => s.commitDecision('c', 'k1', 1, { i })));
    expect(commits.filter((x) => x.kind === 'ok')).toHaveLength(1);
    expect(commits.filter((x) => x.kind === 'exists')).toHaveLength(19);
  });

  it('commitDecision stores one decision per key; a re-run gets the stored one back', async () => {
    const s = createConversationStore(t.redis, keyspace(t.prefix), 60);
    await s.startDecision('c', 'k1', 1000);
    await s.commitDecision('c', 'k1', 1, { route: 'a' });
    const again = await s.commitDecision('c', 'k1', 1, { route: 'b' });
    expect(again).toEqual({ kind: 'exists', decision: { route: 'a' } });
    expect(await s.getDecision('k1')).toEqual({ route: 'a' });
  });

  it('a later press supersedes an older decision still in flight; an older press arriving late is stale', async () => {
    const s = createConversationStore(t.redis, keyspace(t.prefix), 60);
    await s.startDecision('c', 'old', 1000);
    expect(await s.startDecision('c', 'new', 2000)).toMatchObject({ kind: 'new', seq: 2 });
    expect((await s.commitDecision('c', 'old', 1, {})).kind).toBe('superseded');
    expect((await s.startDecision('c', 'older', 500)).kind).toBe('stale');
  });
});

describe('the scripts follow the transition table of @ivr/core (nothing changed but the table)', () => {
  let t: ReturnType<typeof testRedis>;
  beforeEach(() => {
    t = testRedis('convtable');
  });
  afterEach(() => t.cleanup());

  const without = (from: keyof TransitionTable, to: string): TransitionTable => ({ ...VALID_TRANSITIONS, [from]: VALID_TRANSITIONS[from].filter((x) => x !== to) });

  it('IDLE -> WAITING_DTMF removed: a new press is refused and the conversation is not touched', async () => {
    const s = createConversationStore(t.redis, keyspace(t.prefix), 60, without('IDLE', 'WAITING_DTMF'));
    expect(await s.startDecision('c', 'k1', 1000)).toEqual({ kind: 'invalid', seq: 0, previousState: 'IDLE' });
    expect(await s.get('c')).toBeUndefined();
    // the real table, on the same connection, still starts it (its scripts have their own names)
    const real = createConversationStore(t.redis, keyspace(t.prefix), 60);
    expect((await real.startDecision('c', 'k1', 1000)).kind).toBe('new');
  });

  it('CHECKING_QUEUE -> ROUTING removed: a decision cannot be committed, the state stays CHECKING_QUEUE', async () => {
    const s = createConversationStore(t.redis, keyspace(t.prefix), 60, without('CHECKING_QUEUE', 'ROUTING'));
    expect((await s.startDecision('c', 'k1', 1000)).kind).toBe('new');
    expect(await s.commitDecision('c', 'k1', 1, { r: 1 })).toEqual({ kind: 'invalid', detail: 'CHECKING_QUEUE' });
    expect(await s.get('c')).toMatchObject({ state: 'CHECKING_QUEUE', seq: 1 });
    expect(await s.getDecision('k1')).toBeUndefined();
  });

  it('a move added to the table is allowed: WAITING_DTMF resumed by a store whose table lets ROUTING restart it', async () => {
    const ks = keyspace(t.prefix);
    const s = createConversationStore(t.redis, ks, 60, { ...VALID_TRANSITIONS, ROUTING: ['COMPLETE', 'CHECKING_QUEUE'] });
    const real = createConversationStore(t.redis, ks, 60);
    await s.startDecision('c', 'k1', 1000);
    await s.commitDecision('c', 'k1', 1, { r: 1 });
    await t.redis.del(ks.decision('k1'));
    // same key, ROUTING, decision gone: the real table refuses (no ROUTING -> CHECKING_QUEUE), the changed one resumes
    expect((await real.startDecision('c', 'k1', 1000)).kind).toBe('invalid');
    expect(await s.startDecision('c', 'k1', 1000)).toEqual({ kind: 'resume', seq: 1, previousState: 'ROUTING' });
    expect(await s.get('c')).toMatchObject({ state: 'CHECKING_QUEUE', seq: 1 });
  });

  it('the generated table names only states of the table', () => {
    expect(transitionLua(VALID_TRANSITIONS)).toContain('CHECKING_QUEUE={ROUTING=true,IDLE=true}');
    expect(() => transitionLua({ ...VALID_TRANSITIONS, IDLE: ["x'] --" as never] })).toThrow(/CAPITALS_AND_UNDERSCORES/);
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
