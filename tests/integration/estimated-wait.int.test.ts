import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@ivr/testing';
import { createConversation } from '@ivr/genesys-sim/testing';
import { startPipeline, type Pipeline } from './pipeline-harness';

/**
 * A policy with `maxEstimatedWaitS` (issue 19 item 3): Genesys' estimated wait is a routing signal next to the idle
 * agents. Each case has its own queue (set before the first decision), so no case waits for another's cached figures.
 */
describe('maxEstimatedWaitS: routing on Genesys estimated wait time', () => {
  let p: Pipeline;
  let n = 0;
  const ewtCalls = async () => (await p.sim.control.stats()).countByEndpoint.estimatedwaittime ?? 0;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ivr-ewt-'));
    const policy = join(dir, 'policy.yaml');
    writeFileSync(
      policy,
      [
        'default: { queueId: q-plain, threshold: 2 }',
        'digits:',
        '  "1": { queueId: q-long, maxEstimatedWaitS: 60 }',
        '  "2": { queueId: q-short, maxEstimatedWaitS: 60 }',
        '  "3": { queueId: q-few, maxEstimatedWaitS: 60 }',
        '  "4": { queueId: q-down, maxEstimatedWaitS: 60 }',
        '',
      ].join('\n'),
    );
    p = await startPipeline({ ROUTING_POLICY: policy, OCCUPANCY_CACHE_MS: '5000' });
    for (const [q, idle, estimatedWaitS] of [['q-plain', 5, 999], ['q-long', 5, 120], ['q-short', 5, 60], ['q-few', 1, 0], ['q-down', 5, 999]] as const) {
      await p.sim.control.setQueue(q, { idle, estimatedWaitS });
    }
  });
  afterAll(() => p?.close());

  async function decide(dtmf: string) {
    const cid = `ewt-${++n}`;
    await createConversation(p.sim, cid);
    const res = await p.post({ conversationId: cid, dtmf }, { prefer: 'wait=5' });
    const answer = res.body as { routing: string; decisionId: string; reason?: string };
    const stored = await waitFor(async () => p.redis.hget(`${p.prefix}:ivr:store:docs`, answer.decisionId), 'the stored decision');
    return { routing: answer.routing, record: JSON.parse(stored) as Record<string, unknown> };
  }

  it('enough agents but a wait above the maximum -> voicemail; the record keeps the figure; one Genesys call shared', async () => {
    const before = await ewtCalls();
    const decided = await Promise.all([decide('1'), decide('1'), decide('1')]);
    expect(decided.map((d) => d.routing)).toEqual(['route_to_vm', 'route_to_vm', 'route_to_vm']);
    expect(decided.map((d) => d.record.estimatedWaitS)).toEqual([120, 120, 120]);
    expect((await ewtCalls()) - before).toBe(1);
  });

  it('a wait at the maximum -> queue, with the figure recorded', async () => {
    const d = await decide('2');
    expect(d).toMatchObject({ routing: 'route_to_queue', record: { estimatedWaitS: 60 } });
  });

  it('too few agents -> voicemail without asking for the wait; a target without maxEstimatedWaitS never asks', async () => {
    const before = await ewtCalls();
    expect((await decide('3')).routing).toBe('route_to_vm');
    const plain = await decide('0');
    expect(plain.routing).toBe('route_to_queue');
    expect(plain.record.estimatedWaitS).toBeUndefined();
    expect((await ewtCalls()) - before).toBe(0);
  });

  it('Genesys failing the estimate: routed on agents alone, the reason recorded, no figure', async () => {
    await p.sim.control.fault({ match: 'estimatedwaittime', status: 503 });
    try {
      const d = await decide('4');
      expect(d.routing).toBe('route_to_queue');
      expect(d.record.estimatedWaitS).toBeUndefined();
      expect(String(d.record.reason)).toMatch(/estimated wait unavailable: .*503.*; routed on available agents alone/);
    } finally {
      await p.sim.control.clearFaults();
    }
  });
});
