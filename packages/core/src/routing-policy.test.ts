import { describe, expect, it } from 'vitest';
import { parseRoutingPolicy, policyQueues, resolveTarget, routeFor, singleQueuePolicy } from './routing-policy';
import { observationsToCounts } from './occupancy';

describe('routeFor with maxEstimatedWaitS (issue 19)', () => {
  it('enough agents and a wait at most the maximum -> queue; above it -> voicemail; too few agents -> voicemail', () => {
    expect(routeFor(5, 2, { estimatedS: 60, maxS: 60 })).toBe('route_to_queue');
    expect(routeFor(5, 2, { estimatedS: 61, maxS: 60 })).toBe('route_to_vm');
    expect(routeFor(1, 2, { estimatedS: 0, maxS: 60 })).toBe('route_to_vm');
  });

  it('a digit inherits the default maxEstimatedWaitS unless it sets its own; a typo in a target is refused', () => {
    const policy = parseRoutingPolicy('default: { queueId: g, threshold: 1, maxEstimatedWaitS: 90 }\ndigits:\n  "1": { queueId: s, maxEstimatedWaitS: 30 }\n  "2": { queueId: t }\n');
    expect(resolveTarget(policy, '1')).toEqual({ queueId: 's', threshold: 1, maxEstimatedWaitS: 30 });
    expect(resolveTarget(policy, '2')).toEqual({ queueId: 't', threshold: 1, maxEstimatedWaitS: 90 });
    expect(resolveTarget(parseRoutingPolicy('default: { queueId: g, threshold: 1 }'), '2')).toEqual({ queueId: 'g', threshold: 1 });
    expect(() => parseRoutingPolicy('default: { queueId: g, threshold: 1, maxEstimatedWait: 5 }')).toThrow(/maxEstimatedWait/);
  });
});

describe('routeFor (the tutorial rule: available >= threshold -> queue)', () => {
  it.each([
    [0, 5, 'route_to_vm'],
    [4, 5, 'route_to_vm'],
    [5, 5, 'route_to_queue'],
    [9, 5, 'route_to_queue'],
    [0, 0, 'route_to_queue'],
  ] as const)('available %i, threshold %i -> %s', (a, t, route) => {
    expect(routeFor(a, t)).toBe(route);
  });
});

describe('routing policy', () => {
  const yaml = `
default: { queueId: general, threshold: 5 }
digits:
  "1": { queueId: sales, threshold: 2 }
  "2": { queueId: support }
`;
  it('parses YAML and JSON and maps digits to queue and threshold, unlisted digits to the default', () => {
    const p = parseRoutingPolicy(yaml);
    expect(resolveTarget(p, '1')).toEqual({ queueId: 'sales', threshold: 2 });
    expect(resolveTarget(p, '2')).toEqual({ queueId: 'support', threshold: 5 });
    expect(resolveTarget(p, '9')).toEqual({ queueId: 'general', threshold: 5 });
    expect(resolveTarget(p, '1', 'explicit')).toEqual({ queueId: 'explicit', threshold: 2 });
    expect(parseRoutingPolicy(JSON.stringify(p))).toEqual(p);
    expect(policyQueues(p).sort()).toEqual(['general', 'sales', 'support']);
  });
  it('the default policy is the tutorial single queue', () => {
    expect(resolveTarget(singleQueuePolicy('q', 3), '4')).toEqual({ queueId: 'q', threshold: 3 });
  });
  it.each([
    ['digits: {}', 'default'],
    ['default: { queueId: q, threshold: -1 }', 'threshold'],
    ['default: { queueId: q, threshold: 1 }\ndigits: { "x": { queueId: a } }', 'DTMF'],
    ['default: { queueId: q, threshold: 1 }\nextra: 1', 'extra'],
    ['{ not yaml', 'not valid'],
  ])('rejects a bad policy with every problem named: %s', (text, word) => {
    expect(() => parseRoutingPolicy(text, 'policy.yaml')).toThrow(new RegExp(word, 'i'));
  });
});

describe('observations', () => {
  it('absent metrics and absent queues count as 0; IDLE on-queue users (queue group) are the available agents', () => {
    const counts = observationsToCounts(
      ['a', 'b', 'c'],
      {
        results: [
          { group: { queueId: 'a' }, data: [{ metric: 'oOnQueueUsers', qualifier: 'IDLE', stats: { count: 3 } }] },
          { group: { mediaType: 'voice', queueId: 'a' }, data: [{ metric: 'oWaiting', stats: { count: 2 } }] },
          { group: { queueId: 'b' }, data: [{ metric: 'oOnQueueUsers', qualifier: 'INTERACTING', stats: { count: 4 } }] },
          { group: { mediaType: 'voice', queueId: 'b' }, data: [{ metric: 'oInteracting', stats: { count: 4 } }] },
        ],
      },
      1,
    );
    expect(counts.get('a')).toMatchObject({ idle: 3, waiting: 2, interacting: 0, mediaType: 'voice' });
    expect(counts.get('b')).toMatchObject({ idle: 0, interacting: 4 });
    expect(counts.get('c')).toMatchObject({ idle: 0, interacting: 0, waiting: 0 });
  });

  it('waiting/interacting come from the configured media type group only; idle never from a media group', () => {
    const response = {
      results: [
        { group: { queueId: 'a' }, data: [{ metric: 'oOnQueueUsers', qualifier: 'IDLE', stats: { count: 0 } }] },
        { group: { mediaType: 'voice', queueId: 'a' }, data: [{ metric: 'oWaiting', stats: { count: 0 } }] },
        { group: { mediaType: 'chat', queueId: 'a' }, data: [{ metric: 'oWaiting', stats: { count: 40 } }, { metric: 'oOnQueueUsers', qualifier: 'IDLE', stats: { count: 9 } }] },
      ],
    };
    expect(observationsToCounts(['a'], response, 1).get('a')).toMatchObject({ idle: 0, waiting: 0 });
    expect(observationsToCounts(['a'], response, 1, 'chat').get('a')).toMatchObject({ idle: 0, waiting: 40, mediaType: 'chat' });
  });
});
