import platformClient from 'purecloud-platform-client-v2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSim, type RunningSim } from './index';

let sim: RunningSim;
let routing: platformClient.RoutingApi;

beforeAll(async () => {
  sim = await startSim({ port: 0 });
});
afterAll(() => sim.close());

beforeEach(async () => {
  await fetch(`${sim.url}/__sim/reset`, { method: 'POST' });
  const client = new platformClient.ApiClientClass();
  client.config.live_reload_config = false;
  client.setGateway({ host: '127.0.0.1', protocol: 'http', port: sim.port });
  client.setReturnExtendedResponses(true);
  await client.loginClientCredentialsGrant('sim-client', 'sim-secret');
  routing = new platformClient.RoutingApi(client);
});

const setQueue = (id: string, body: unknown) =>
  fetch(`${sim.url}/__sim/queues/${id}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('GET /api/v2/routing/queues/{queueId}/mediatypes/{mediaType}/estimatedwaittime', () => {
  it('answers EstimatedWaitTimePredictions with the figure PUT /__sim/queues set (BEST formula, the media type as intent)', async () => {
    await setQueue('q1', { idle: 0, estimatedWaitS: 95 });
    const res = (await routing.getRoutingQueueMediatypeEstimatedwaittime('q1', 'call')) as unknown as { status: number; body: unknown };
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ results: [{ intent: 'CALL', formula: 'BEST', estimatedWaitTimeSeconds: 95 }] });
    const calls = (await (await fetch(`${sim.url}/__sim/calls?endpoint=estimatedwaittime`)).json()) as { calls: unknown[] };
    expect(calls.calls).toHaveLength(1);
  });

  it('refuses a media type the endpoint does not name (voice is `call` there)', async () => {
    const err = await routing.getRoutingQueueMediatypeEstimatedwaittime('q1', 'voice').then(
      () => undefined,
      (e: unknown) => e as { status: number },
    );
    expect(err?.status).toBe(400);
  });

  it('a negative or fractional figure is refused by the control API', async () => {
    expect((await setQueue('q1', { estimatedWaitS: -1 })).status).toBe(400);
    expect((await setQueue('q1', { estimatedWaitS: 1.5 })).status).toBe(400);
  });
});
