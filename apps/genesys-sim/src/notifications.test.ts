import platformClient from 'purecloud-platform-client-v2';
import WebSocket from 'ws';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { waitFor, rejectionOf } from '@ivr/testing';
import { startSim, type RunningSim } from './index';

/** The real SDK (NotificationsApi) on a private ApiClient pointed at the simulator. */
let sim: RunningSim;
let notifications: platformClient.NotificationsApi;

interface Extended {
  status: number;
  body: unknown;
}
const ext = (p: Promise<unknown>) => p as Promise<Extended>;
const control = (method: string, path: string, body?: unknown) =>
  fetch(`${sim.url}/__sim${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });

interface Message {
  topicName: string;
  eventBody: Record<string, unknown>;
}

/** A socket that keeps every message it receives; `next` waits (with a deadline) for one matching message. */
async function connect(uri: string) {
  const ws = new WebSocket(uri);
  const messages: Message[] = [];
  ws.on('message', (d) => messages.push(JSON.parse(String(d)) as Message));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  const next = (pred: (m: Message) => boolean, timeoutMs = 3000): Promise<Message> =>
    waitFor(() => messages.find(pred), 'a matching message', timeoutMs, 10).catch((e: Error) => {
      throw new Error(`${e.message}; got ${JSON.stringify(messages)}`);
    });
  return { ws, messages, next, closed };
}

async function openChannel(queueIds: string[]) {
  const channel = (await ext(notifications.postNotificationsChannels())).body as { id: string; connectUri: string; expires: string };
  await ext(notifications.putNotificationsChannelSubscriptions(channel.id, queueIds.map((q) => ({ id: `v2.analytics.queues.${q}.observations` }))));
  return channel;
}

beforeAll(async () => {
  sim = await startSim({ port: 0 });
});
afterAll(() => sim.close());

beforeEach(async () => {
  await control('POST', '/reset');
  await control('PUT', '/config', { heartbeatMs: 30_000, channelTtlS: 86_400 });
  const client = new platformClient.ApiClientClass();
  client.config.live_reload_config = false;
  client.setGateway({ host: '127.0.0.1', protocol: 'http', port: sim.port });
  client.setReturnExtendedResponses(true);
  await client.loginClientCredentialsGrant('sim-client', 'sim-secret');
  notifications = new platformClient.NotificationsApi(client);
});

describe('notification channels (POST /api/v2/notifications/channels, PUT/GET .../subscriptions)', () => {
  it('creates a channel {id, connectUri, expires ~24 h} and keeps its subscriptions', async () => {
    const before = Date.now();
    const channel = await openChannel(['q1', 'q2']);
    expect(channel.connectUri).toBe(`ws://127.0.0.1:${sim.port}/channels/${channel.id}`);
    expect(Date.parse(channel.expires) - before).toBeGreaterThan(86_399_000);
    const listed = await ext(notifications.getNotificationsChannelSubscriptions(channel.id));
    expect(listed.body).toEqual({ entities: [{ id: 'v2.analytics.queues.q1.observations' }, { id: 'v2.analytics.queues.q2.observations' }] });
    const calls = (await (await control('GET', '/calls?endpoint=notifications')).json()) as { calls: Array<{ method: string; status: number }> };
    expect(calls.calls.map((c) => `${c.method} ${c.status}`)).toEqual(['POST 200', 'PUT 200', 'GET 200']);
  });

  it('refuses a topic it does not simulate, a malformed body and an unknown channel', async () => {
    const channel = (await ext(notifications.postNotificationsChannels())).body as { id: string };
    expect((await rejectionOf<Extended>(notifications.putNotificationsChannelSubscriptions(channel.id, [{ id: 'v2.users.u1.presence' }]))).status).toBe(400);
    expect((await rejectionOf<Extended>(notifications.putNotificationsChannelSubscriptions('no-such-channel', [{ id: 'v2.analytics.queues.q1.observations' }]))).status).toBe(404);
    const tooMany = Array.from({ length: 1001 }, (_, i) => ({ id: `v2.analytics.queues.q${i}.observations` }));
    expect((await rejectionOf<Extended>(notifications.putNotificationsChannelSubscriptions(channel.id, tooMany))).status).toBe(400);
  });

  it('keeps at most 20 channels: a 21st removes the least recently used one', async () => {
    const first = (await ext(notifications.postNotificationsChannels())).body as { id: string };
    for (let i = 0; i < 20; i++) await ext(notifications.postNotificationsChannels());
    expect((await rejectionOf<Extended>(notifications.getNotificationsChannelSubscriptions(first.id))).status).toBe(404);
  });

  it('needs a token, like every API call', async () => {
    const res = await fetch(`${sim.url}/api/v2/notifications/channels`, { method: 'POST' });
    expect(res.status).toBe(401);
  });
});

describe('the channel WebSocket', () => {
  it('sends one observation event per result group when /__sim/queues changes a subscribed queue, none for others', async () => {
    const channel = await openChannel(['q1']);
    const socket = await connect(channel.connectUri);
    await control('PUT', '/queues/q2', { idle: 9 });
    await control('PUT', '/queues/q1', { idle: 3, waiting: 2 });
    const users = await socket.next((m) => m.topicName === 'v2.analytics.queues.q1.observations' && !('mediaType' in (m.eventBody.group as object)));
    expect(users.eventBody).toEqual({
      group: { queueId: 'q1' },
      data: [{ interval: expect.stringMatching(/^\d{4}-.+Z\/\d{4}-.+Z$/), metrics: expect.arrayContaining([{ metric: 'oOnQueueUsers', qualifier: 'IDLE', stats: { count: 3 } }]) }],
    });
    const voice = await socket.next((m) => (m.eventBody.group as { mediaType?: string }).mediaType === 'voice');
    expect(voice.eventBody.data).toEqual([expect.objectContaining({ metrics: expect.arrayContaining([{ metric: 'oWaiting', stats: { count: 2 } }]) })]);
    expect(socket.messages.some((m) => m.topicName.includes('.q2.'))).toBe(false);
    socket.ws.close();
  });

  it('answers {"message":"ping"} with a pong and sends heartbeats', async () => {
    await control('PUT', '/config', { heartbeatMs: 50 });
    const channel = await openChannel(['q1']);
    const socket = await connect(channel.connectUri);
    socket.ws.send(JSON.stringify({ message: 'ping' }));
    expect((await socket.next((m) => m.eventBody.message === 'pong')).topicName).toBe('channel.metadata');
    expect((await socket.next((m) => m.eventBody.message === 'WebSocket Heartbeat')).topicName).toBe('channel.metadata');
    socket.ws.close();
  });

  it('refuses a socket for an unknown channel (404, recorded)', async () => {
    await expect(connect(`ws://127.0.0.1:${sim.port}/channels/nope`)).rejects.toThrow(/404/);
    const calls = (await (await control('GET', '/calls?endpoint=notifications')).json()) as { calls: Array<{ path: string; status: number }> };
    expect(calls.calls).toEqual([expect.objectContaining({ path: '/channels/nope', status: 404 })]);
  });
});

describe('notification faults under /__sim/notifications', () => {
  it('drop: the socket is cut, the channel stays (a reconnect to it works)', async () => {
    const channel = await openChannel(['q1']);
    const socket = await connect(channel.connectUri);
    expect(await (await control('POST', '/notifications/drop')).json()).toEqual({ dropped: 1 });
    await socket.closed;
    const again = await connect(channel.connectUri);
    await control('PUT', '/queues/q1', { idle: 1 });
    await again.next((m) => m.topicName === 'v2.analytics.queues.q1.observations');
    again.ws.close();
  });

  it('silence: the socket stays open and nothing arrives until it is lifted', async () => {
    const channel = await openChannel(['q1']);
    const socket = await connect(channel.connectUri);
    await control('PUT', '/notifications/silence', { silent: true });
    await control('PUT', '/queues/q1', { idle: 1 }); // its events would be sent before the control call answers
    await control('PUT', '/notifications/silence', { silent: false });
    socket.ws.send(JSON.stringify({ message: 'ping' }));
    await socket.next((m) => m.eventBody.message === 'pong');
    // On one socket messages arrive in order: the pong is the first, so the queue's events were never sent.
    expect(socket.messages).toEqual([{ topicName: 'channel.metadata', eventBody: { message: 'pong' } }]);
    socket.ws.close();
  });

  it('expire: the socket closes, the channel is gone (subscribe and connect answer 404)', async () => {
    const channel = await openChannel(['q1']);
    const socket = await connect(channel.connectUri);
    expect(await (await control('POST', '/notifications/expire')).json()).toEqual({ expired: 1 });
    await socket.closed;
    expect((await rejectionOf<Extended>(notifications.putNotificationsChannelSubscriptions(channel.id, [{ id: 'v2.analytics.queues.q1.observations' }]))).status).toBe(404);
    await expect(connect(channel.connectUri)).rejects.toThrow(/404/);
  });

  it('a channel expires after channelTtlS unless resubscribed (resubscribing extends it)', async () => {
    await control('PUT', '/config', { channelTtlS: 0.3 });
    const kept = await openChannel(['q1']);
    const lapsed = await openChannel(['q2']);
    const t0 = Date.now();
    // Resubscribe `kept` every 100 ms for 600 ms; `lapsed` is left alone.
    while (Date.now() - t0 < 600) {
      await ext(notifications.putNotificationsChannelSubscriptions(kept.id, [{ id: 'v2.analytics.queues.q1.observations' }]));
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await ext(notifications.getNotificationsChannelSubscriptions(kept.id))).status).toBe(200);
    expect((await rejectionOf<Extended>(notifications.getNotificationsChannelSubscriptions(lapsed.id))).status).toBe(404);
  });
});
