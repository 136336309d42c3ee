import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { QueueKeys } from 'bullmq';
import { jobIdFor, jobIdForKey, scopedKey, type JobKind, type KeySpace } from '@ivr/core';
import { ALL_QUEUES, keyspace } from './names';

/**
 * Issue 13 item 1, as a property: whatever a client sends, the job id BullMQ gets never equals or contains a
 * name BullMQ or this project uses, never contains the `:` separator or a `{}` hash tag, and two distinct
 * (space, key) pairs never give one id.
 */

// BullMQ 6's own structure names, read from the library (QueueKeys), plus the per-job suffixes its Lua scripts use.
const bullmqNames = Object.keys(new QueueKeys('p').getKeys('q')).filter(Boolean);
const jobSuffixes = ['lock', 'logs', 'dependencies', 'processed', 'failed', 'unsuccessful', 'metrics', 'started', 'cleanup', 'retained', 'mid', 'layout', 'subs'];
// Ours: the keyspace's segments and the queue names.
const ourNames = [...new Set(Object.values(keyspace('P')).flatMap((v) => (typeof v === 'function' ? v('x') : v).split(':')).filter((s) => s && s !== 'P' && s !== 'x'))];
const NAMES = [...new Set([...bullmqNames, ...jobSuffixes, ...ourNames, ...ALL_QUEUES, 'bull'])];
const SEPARATORS = [':', '{', '}'];

const space = fc.constantFrom<KeySpace>('client', 'body');
// Client keys as the receiver accepts them (1-200 printable ASCII, no spaces), biased towards the dangerous ones.
const clientKey = fc.oneof(
  fc.constantFrom(...NAMES),
  fc.tuple(fc.constantFrom(...NAMES), fc.constantFrom(...SEPARATORS, ''), fc.constantFrom(...NAMES)).map(([a, s, b]) => `${a}${s}${b}`),
  fc.constantFrom(...NAMES).map((n) => `{${n}}`),
  fc.constantFrom(...NAMES).map((n) => `${n}:lock`),
  fc.stringMatching(/^[\x21-\x7e]{1,200}$/),
  fc.stringMatching(/^sha256-[A-Za-z0-9_-]{32}$/),
  fc.integer({ min: 0 }).map(String),
);
const kind = fc.constantFrom<JobKind>('event', 'apply', 'report', 'outcome', 'batch');

function assertSafe(id: string) {
  const lower = id.toLowerCase();
  const found = [...NAMES.filter((n) => lower.includes(n.toLowerCase())), ...SEPARATORS.filter((s) => id.includes(s))];
  if (found.length) expect.fail(`job id ${id} contains ${found.join(', ')}`);
  if (/^\d+$/.test(id)) expect.fail(`job id ${id} is an integer (BullMQ refuses integer custom ids)`);
}

describe('job ids derived from client keys', () => {
  it('the name lists are read from the library and the project, not empty', () => {
    expect(bullmqNames).toEqual(expect.arrayContaining(['wait', 'active', 'paused', 'meta', 'events', 'id', 'marker', 'limiter', 'stalled', 'pc', 'prioritized', 'de', 'repeat']));
    expect(ourNames).toEqual(expect.arrayContaining(['ivr', 'i', 'conv', 'decision']));
  });

  it('never equal or contain a BullMQ or project name, a separator or a hash tag', () => {
    fc.assert(
      fc.property(kind, space, clientKey, (k, sp, key) => {
        assertSafe(jobIdFor(k, scopedKey(key, sp)));
        assertSafe(jobIdForKey(key, sp));
      }),
      { numRuns: 3000 },
    );
  });

  it('two distinct (space, key) pairs never give one id, one pair always the same id', () => {
    fc.assert(
      fc.property(space, clientKey, space, clientKey, (s1, k1, s2, k2) => {
        const same = s1 === s2 && k1 === k2;
        expect(jobIdForKey(k1, s1) === jobIdForKey(k2, s2)).toBe(same);
        expect(scopedKey(k1, s1) === scopedKey(k2, s2)).toBe(same);
      }),
      { numRuns: 3000 },
    );
    // The pair that mattered in issue 13: a client key spelled like a derived one.
    expect(jobIdForKey('sha256-abc', 'client')).not.toBe(jobIdForKey('sha256-abc', 'body'));
  });

  it('ids of different kinds never meet, even for one identity', () => {
    fc.assert(
      fc.property(clientKey, (key) => {
        const ids = (['event', 'apply', 'report'] as const).map((k) => jobIdFor(k, key));
        expect(new Set(ids).size).toBe(3);
      }),
    );
  });
});
