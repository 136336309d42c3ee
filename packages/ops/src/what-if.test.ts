import { describe, expect, it } from 'vitest';
import { parseRoutingPolicy } from '@ivr/core';
import { formatWhatIf, whatIf, type ObservedDecision } from './what-if';

const d = (dtmf: string, occupancy: number, route: ObservedDecision['route'], occupancySource: ObservedDecision['occupancySource'] = 'cache'): ObservedDecision => ({
  dtmf,
  occupancy,
  route,
  occupancySource,
  threshold: 5,
});

describe('whatIf (recompute routeFor with the same observed occupancy)', () => {
  // Recorded with threshold 5: 8 and 5 idle -> queue, 4, 2 and 0 -> voicemail.
  const recorded = [
    d('1', 8, 'route_to_queue'),
    d('1', 4, 'route_to_vm'),
    d('1', 2, 'route_to_vm'),
    d('2', 5, 'route_to_queue'),
    d('2', 0, 'route_to_vm'),
    d('2', 0, 'route_to_queue', 'fail_open'), // DEFAULT_ROUTE applied: no occupancy seen
  ];

  it('a lower threshold sends the calls that saw enough agents to the queue', () => {
    const r = whatIf(recorded, { threshold: 2 });
    expect(r).toMatchObject({ alternative: { threshold: 2 }, total: 6, changed: 2, toQueue: 2, toVoicemail: 0, failOpen: 1, recordedThresholds: { 5: 6 } });
    expect(r.rows.map((row) => [row.dtmf, row.moves['route_to_vm→route_to_queue'], row.moves['route_to_vm→route_to_vm'], row.failOpen])).toEqual([
      ['1', 2, 0, 0],
      ['2', 0, 1, 1],
    ]);
  });

  it('a higher threshold sends calls to voicemail; the same threshold changes nothing', () => {
    expect(whatIf(recorded, { threshold: 6 })).toMatchObject({ changed: 1, toQueue: 0, toVoicemail: 1 }); // only the call that saw exactly 5
    expect(whatIf(recorded, { threshold: 5 })).toMatchObject({ changed: 0 });
    expect(whatIf(recorded, { threshold: 0 })).toMatchObject({ changed: 3, toQueue: 3 }); // 0 idle >= 0 -> queue
  });

  it('fail-open decisions keep their route whatever the threshold', () => {
    const r = whatIf([d('9', 0, 'route_to_vm', 'fail_open')], { threshold: 0 });
    expect(r).toMatchObject({ changed: 0, failOpen: 1 });
  });

  it('formats the headline and one row per DTMF, numeric order', () => {
    const text = formatWhatIf(whatIf([...recorded, d('10', 9, 'route_to_queue')], { threshold: 2 }), { recorded: 8, missing: 1, prefix: 'ivr' });
    expect(text).toContain('2 of 7 calls (28.6%) would change route: 2 to route_to_queue, 0 to route_to_vm');
    expect(text).toContain('1 without');
    const rows = text.split('\n').filter((l) => /^\d+\s/.test(l)).map((l) => l.split(/\s+/)[0]);
    expect(rows).toEqual(['1', '2', '10']);
  });
});

describe('whatIf against another maxEstimatedWaitS (the stored estimated wait of each decision)', () => {
  // Recorded with threshold 2 and maxEstimatedWaitS 90 on digits 1 and 2; digit 3 had no wait rule (no figure).
  const w = (dtmf: string, occupancy: number, route: ObservedDecision['route'], estimatedWaitS?: number): ObservedDecision => ({
    dtmf,
    occupancy,
    route,
    occupancySource: 'poll',
    threshold: 2,
    ...(estimatedWaitS !== undefined ? { estimatedWaitS, routedByWait: route === 'route_to_vm' && occupancy >= 2 } : {}),
  });
  const recorded = [
    w('1', 5, 'route_to_queue', 30),
    w('1', 5, 'route_to_vm', 120), // the wait rule: 120 > 90
    w('1', 1, 'route_to_vm'), // too few agents, no figure needed
    w('2', 4, 'route_to_queue', 75),
    w('2', 4, 'route_to_vm', 95),
    w('3', 6, 'route_to_queue'), // no maxEstimatedWaitS then: no figure stored
    { ...w('3', 0, 'route_to_queue'), occupancySource: 'fail_open' as const },
  ];

  it('a lower global maximum sends the calls whose stored wait is above it to voicemail; no figure: kept and counted', () => {
    const r = whatIf(recorded, { maxWait: { global: 60 } });
    expect(r).toMatchObject({ total: 7, changed: 1, toVoicemail: 1, toQueue: 0, noFigure: 1, failOpen: 1 });
    expect(r.rows.find((x) => x.dtmf === '2')!.moves['route_to_queue→route_to_vm']).toBe(1); // 75 > 60
    expect(r.rows.find((x) => x.dtmf === '1')!.moves['route_to_vm→route_to_vm']).toBe(2); // 120 > 60, and 1 agent
    expect(r.rows.find((x) => x.dtmf === '3')).toMatchObject({ noFigure: 1, failOpen: 1 });
  });

  it('a higher maximum, or none, sends the wait rule’s voicemail calls to the queue', () => {
    expect(whatIf(recorded, { maxWait: { global: 150 } })).toMatchObject({ changed: 2, toQueue: 2, noFigure: 1 });
    // no rule at all: nothing needs a figure
    expect(whatIf(recorded, { maxWait: { global: null } })).toMatchObject({ changed: 2, toQueue: 2, noFigure: 0 });
    expect(whatIf(recorded, { maxWait: { global: 90 } })).toMatchObject({ changed: 0 }); // as recorded
  });

  it('per digit, in the routing policy shape: a digit without it inherits the default', () => {
    const policy = parseRoutingPolicy('default: { queueId: q, threshold: 2, maxEstimatedWaitS: 100 }\ndigits:\n  "2": { queueId: q, maxEstimatedWaitS: 80 }');
    const r = whatIf(recorded, { maxWait: { policy } });
    // digit 1: 120 > 100 stays vm, 30 stays queue; digit 2: 75 stays queue, 95 > 80 stays vm; digit 3 needs a figure
    expect(r).toMatchObject({ changed: 0, noFigure: 1 });
    const strict = parseRoutingPolicy('default: { queueId: q, threshold: 2 }\ndigits:\n  "1": { queueId: q, maxEstimatedWaitS: 20 }');
    // digit 1: 30 > 20 -> vm; digit 2 and 3: no maximum -> the agents alone: 95 goes to the queue
    expect(whatIf(recorded, { maxWait: { policy: strict } })).toMatchObject({ changed: 2, toVoicemail: 1, toQueue: 1, noFigure: 0 });
  });

  it('a threshold alone keeps the recorded wait rule; both together apply both', () => {
    // 5: digit 2's 4-agent queue call goes to voicemail; the 5-agent call the wait rule sent to voicemail stays there
    expect(whatIf(recorded, { threshold: 5 })).toMatchObject({ changed: 1, toVoicemail: 1, noFigure: 0 });
    // 0 and 60: the 1-agent call would now need a figure it never had (kept); 75 > 60 goes to voicemail
    expect(whatIf(recorded, { threshold: 0, maxWait: { global: 60 } })).toMatchObject({ changed: 1, toVoicemail: 1, toQueue: 0, noFigure: 2 });
  });

  it('names the alternative and the no-figure decisions in the report', () => {
    const text = formatWhatIf(whatIf(recorded, { maxWait: { global: 60 } }), { recorded: 7, missing: 0, prefix: 'ivr' });
    expect(text).toContain('What-if: maxEstimatedWaitS 60 for every call instead of the recorded policy');
    expect(text).toContain('1 kept with no figure (no estimated wait stored)');
    expect(text).toMatch(/no figure/);
  });
});
