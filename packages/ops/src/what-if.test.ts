import { describe, expect, it } from 'vitest';
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
    const r = whatIf(recorded, 2);
    expect(r).toMatchObject({ threshold: 2, total: 6, changed: 2, toQueue: 2, toVoicemail: 0, failOpen: 1, recordedThresholds: { 5: 6 } });
    expect(r.rows.map((row) => [row.dtmf, row.moves['route_to_vm→route_to_queue'], row.moves['route_to_vm→route_to_vm'], row.failOpen])).toEqual([
      ['1', 2, 0, 0],
      ['2', 0, 1, 1],
    ]);
  });

  it('a higher threshold sends calls to voicemail; the same threshold changes nothing', () => {
    expect(whatIf(recorded, 6)).toMatchObject({ changed: 1, toQueue: 0, toVoicemail: 1 }); // only the call that saw exactly 5
    expect(whatIf(recorded, 5)).toMatchObject({ changed: 0 });
    expect(whatIf(recorded, 0)).toMatchObject({ changed: 3, toQueue: 3 }); // 0 idle >= 0 -> queue
  });

  it('fail-open decisions keep their route whatever the threshold', () => {
    const r = whatIf([d('9', 0, 'route_to_vm', 'fail_open')], 0);
    expect(r).toMatchObject({ changed: 0, failOpen: 1 });
  });

  it('formats the headline and one row per DTMF, numeric order', () => {
    const text = formatWhatIf(whatIf([...recorded, d('10', 9, 'route_to_queue')], 2), { recorded: 8, missing: 1, prefix: 'ivr' });
    expect(text).toContain('2 of 7 calls (28.6%) would change route: 2 to route_to_queue, 0 to route_to_vm');
    expect(text).toContain('1 without');
    const rows = text.split('\n').filter((l) => /^\d+\s/.test(l)).map((l) => l.split(/\s+/)[0]);
    expect(rows).toEqual(['1', '2', '10']);
  });
});
