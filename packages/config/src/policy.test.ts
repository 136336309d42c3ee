import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config';
import { loadRoutingPolicy } from './policy';

const dir = mkdtempSync(join(tmpdir(), 'ivr-policy-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('loadRoutingPolicy (ROUTING_POLICY)', () => {
  it('without ROUTING_POLICY: the tutorial single queue from TARGET_QUEUE_ID and OCCUPANCY_THRESHOLD', () => {
    expect(loadRoutingPolicy(loadConfig({ TARGET_QUEUE_ID: 'sales', OCCUPANCY_THRESHOLD: '7' }))).toEqual({ default: { queueId: 'sales', threshold: 7 }, digits: {} });
  });

  it('reads a YAML or JSON file', () => {
    const yaml = file('p.yaml', 'default: { queueId: g, threshold: 2 }\ndigits:\n  "1": { queueId: s }\n');
    expect(loadRoutingPolicy(loadConfig({ ROUTING_POLICY: yaml }))).toEqual({ default: { queueId: 'g', threshold: 2 }, digits: { '1': { queueId: 's' } } });
    const json = file('p.json', JSON.stringify({ default: { queueId: 'j', threshold: 0 } }));
    expect(loadRoutingPolicy(loadConfig({ ROUTING_POLICY: json }))).toEqual({ default: { queueId: 'j', threshold: 0 }, digits: {} });
  });

  it('a missing file and a bad policy name the variable and the file', () => {
    const missing = join(dir, 'nope.yaml');
    expect(() => loadRoutingPolicy(loadConfig({ ROUTING_POLICY: missing }))).toThrow(`ROUTING_POLICY: cannot read ${missing}`);
    const bad = file('bad.yaml', 'default: { queueId: q, threshold: -1 }\n');
    expect(() => loadRoutingPolicy(loadConfig({ ROUTING_POLICY: bad }))).toThrow(new RegExp(`^ROUTING_POLICY ${bad}: default\\.threshold`));
  });
});
