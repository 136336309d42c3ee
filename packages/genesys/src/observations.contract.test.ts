/**
 * The observations parser (@ivr/core observationsToCounts) held to real-shaped responses (fixtures/, each citing
 * the public documentation it was built from), and the simulator held to the same shape through the real SDK.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { observationsToCounts, routeFor } from '@ivr/core';
import { startTestSim, type TestSim } from '@ivr/genesys-sim/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGenesysClient } from './client';
import type { ObservationsResponse } from './types';

interface Fixture {
  _source: string;
  _query: { queues: string[] };
  _expected: Record<string, Record<string, { idle: number; waiting: number; interacting: number }>>;
  response: ObservationsResponse;
}

const dir = join(import.meta.dirname, 'fixtures');
const fixtures = readdirSync(dir)
  .filter((f) => f.startsWith('observations-') && f.endsWith('.json'))
  .map((f) => [f, JSON.parse(readFileSync(join(dir, f), 'utf8')) as Fixture] as const);

/** The group's keys, sorted: `queueId` or `mediaType,queueId`. */
const groupShapes = (r: ObservationsResponse) => new Set((r.results ?? []).map((x) => Object.keys(x.group ?? {}).sort().join(',')));

describe('observations parser against recorded real-shaped responses', () => {
  it('has fixtures, each citing its source', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(2);
    for (const [, f] of fixtures) expect(f._source).toMatch(/index\.d\.ts|AnalyticsApi\.md/);
  });

  for (const [name, f] of fixtures) {
    for (const [mediaType, expected] of Object.entries(f._expected)) {
      it(`${name}: ${mediaType} figures`, () => {
        const counts = observationsToCounts(f._query.queues, f.response as never, 0, mediaType);
        for (const [queueId, figures] of Object.entries(expected)) expect(counts.get(queueId)).toMatchObject({ ...figures, mediaType });
      });
    }
  }

  it('0 idle, 0 voice waiting, 40 chat waiting: a voice decision sees the voice figures only', () => {
    const f = fixtures.find(([n]) => n === 'observations-voice-and-chat.json')![1];
    const queueId = f._query.queues[0]!;
    const voice = observationsToCounts([queueId], f.response as never, 0, 'voice').get(queueId)!;
    const chat = observationsToCounts([queueId], f.response as never, 0, 'chat').get(queueId)!;
    expect({ idle: voice.idle, waiting: voice.waiting }).toEqual({ idle: 0, waiting: 0 });
    expect(chat.waiting).toBe(40); // the chat figure is in the response: the parser chose not to count it
    expect(routeFor(voice.idle, 5)).toBe('route_to_vm');
  });
});

describe('the simulator answers in the recorded shape (real SDK)', () => {
  let sim: TestSim;
  beforeAll(async () => {
    sim = await startTestSim();
  });
  afterAll(() => sim.close());

  it('same group shapes, and the parser reads the same figures from it as from the fixture', async () => {
    const [, f] = fixtures.find(([n]) => n === 'observations-voice-and-chat.json')!;
    const [q1, q2] = f._query.queues as [string, string];
    await sim.control.setQueue(q1, { idle: 0, interacting: 3, waiting: 0, media: { chat: { waiting: 40, interacting: 5 }, email: { waiting: 12 } } });
    await sim.control.setQueue(q2, { idle: 6, waiting: 2, media: { callback: { waiting: 7 } } });
    const client = createGenesysClient({ environment: 'mypurecloud.com', apiBase: sim.url, clientId: sim.clientId, clientSecret: sim.clientSecret });
    await client.login();
    const live = await client.queryObservations([q1, q2]);
    expect(groupShapes(live)).toEqual(groupShapes(f.response));
    for (const mediaType of ['voice', 'chat']) {
      const fromSim = observationsToCounts([q1, q2], live as never, 0, mediaType);
      const fromFixture = observationsToCounts([q1, q2], f.response as never, 0, mediaType);
      for (const q of [q1, q2]) {
        const { idle, waiting, interacting } = fromFixture.get(q)!;
        expect(fromSim.get(q)).toMatchObject({ idle, waiting, interacting });
      }
    }
  });
});
