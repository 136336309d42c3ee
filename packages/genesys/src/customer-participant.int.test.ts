import { testRedis, rejectionOf } from '@ivr/testing';
import { createConversation, startTestSim, type TestSim } from '@ivr/genesys-sim/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGenesysClient } from './client';
import { createCustomerResolver, customerParticipantId, ParticipantUnresolvableError } from './customer-participant';
import { checkGenesysEnvironment, genesysEnvironments } from './environment';
import { classifyGenesysError } from './errors';
import type { GenesysClient } from './types';

let sim: TestSim;
let client: GenesysClient;
let t: ReturnType<typeof testRedis>;

beforeAll(async () => {
  sim = await startTestSim();
});
afterAll(() => sim.close());
beforeEach(async () => {
  await sim.control.reset();
  client = createGenesysClient({ environment: 'mypurecloud.com', apiBase: sim.url, clientId: sim.clientId, clientSecret: sim.clientSecret });
  await client.login();
  t = testRedis('cust');
});
afterEach(() => t.cleanup());

const resolverFor = (prefix = t.prefix) => createCustomerResolver({ redis: t.redis, prefix, getConversation: (cid) => client.getConversation(cid) });

describe('customerParticipantId', () => {
  it('takes the participant whose purpose is customer, a connected one first', () => {
    expect(customerParticipantId({ participants: [{ id: 'i', purpose: 'ivr' }, { id: 'c', purpose: 'customer' }, { id: 'a', purpose: 'agent' }] })).toBe('c');
    expect(customerParticipantId({ participants: [{ id: 'old', purpose: 'customer', endTime: '2026-01-01T00:00:00Z' }, { id: 'new', purpose: 'customer' }] })).toBe('new');
    expect(customerParticipantId({ participants: [{ id: 'i', purpose: 'ivr' }, { id: 'q', purpose: 'acd' }] })).toBeUndefined();
    expect(customerParticipantId(undefined)).toBeUndefined();
  });
});

describe('customer participant resolver (real SDK → simulator, real Redis)', () => {
  it("resolves the call's customer participant, then serves it from Redis to every worker without another read", async () => {
    await createConversation(sim, 'call-1', { customerId: 'caller-7f3a' });
    const a = resolverFor();
    const b = resolverFor(); // another worker process on the same Redis
    expect(await a.resolve('call-1')).toBe('caller-7f3a');
    expect(await Promise.all([a.resolve('call-1'), b.resolve('call-1'), b.resolve('call-1')])).toEqual(['caller-7f3a', 'caller-7f3a', 'caller-7f3a']);
    expect(await sim.control.calls('conversation')).toHaveLength(1);
    expect(b.stats()).toEqual({ lookups: 0, cacheHits: 2 });
    // The conversation id is hashed into the key: never a key name of its own.
    const keys = await t.redis.keys(`${t.prefix}:*`);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(new RegExp(`^${t.prefix}:ivr:cust:[0-9a-f]{40}$`));
  });

  it('concurrent misses in one process make one conversation read', async () => {
    await createConversation(sim, 'call-2');
    const r = resolverFor();
    expect(new Set(await Promise.all(Array.from({ length: 10 }, () => r.resolve('call-2'))))).toEqual(new Set(['call-2-customer']));
    expect(await sim.control.calls('conversation')).toHaveLength(1);
  });

  it('unknown conversation: a fatal reason naming it and what to fix (not retried)', async () => {
    const err = await rejectionOf<Error>(resolverFor().resolve('never-created'));
    expect(err).toBeInstanceOf(ParticipantUnresolvableError);
    expect(err.message).toMatch(/^conversation never-created is unknown to Genesys \(Genesys 404 not\.found: .*\); the flow must send its real conversation id/);
    expect(classifyGenesysError(err)).toMatchObject({ kind: 'fatal', message: err.message });
  });

  it('no customer participant: a fatal reason listing the purposes found', async () => {
    await createConversation(sim, 'call-3', { participants: [{ id: 'ivr-1', purpose: 'ivr' }, { id: 'acd-1', purpose: 'acd' }] });
    const err = await rejectionOf<Error>(resolverFor().resolve('call-3'));
    expect(err).toBeInstanceOf(ParticipantUnresolvableError);
    expect(err.message).toBe("conversation call-3 has no customer participant (participants' purposes: ivr, acd); send participantId in the webhook (the companion data action gives the caller's id)");
    expect(classifyGenesysError(err).kind).toBe('fatal');
    expect(await t.redis.keys(`${t.prefix}:*`)).toEqual([]); // nothing cached for a failure
  });

  it('a Genesys outage on the read stays retryable', async () => {
    await createConversation(sim, 'call-4');
    await sim.control.fault({ match: 'conversation', status: 503, count: 1 });
    const r = resolverFor();
    expect(classifyGenesysError(await rejectionOf<Error>(r.resolve('call-4'))).kind).toBe('retryable');
    expect(await r.resolve('call-4')).toBe('call-4-customer');
  });
});

describe('GENESYS_ENVIRONMENT', () => {
  it("accepts the SDK's regions and names every valid value for a typo, in one line", () => {
    expect(genesysEnvironments()).toContain('mypurecloud.ie');
    expect(checkGenesysEnvironment('mypurecloud.de')).toBe('mypurecloud.de');
    expect(() => checkGenesysEnvironment('mypurecloud.con')).toThrow(/^GENESYS_ENVIRONMENT "mypurecloud.con" is not a Genesys Cloud region; use one of: mypurecloud\.com, mypurecloud\.ie, .*euw2\.pure\.cloud/);
    expect(() => createGenesysClient({ environment: 'eu-west-1', clientId: 'x', clientSecret: 'y' })).toThrow(/not a Genesys Cloud region/);
  });
});
