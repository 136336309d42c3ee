import type { Logger } from '@ivr/core';
import type { Redis } from 'ioredis';
import WebSocket from 'ws';
import type { Keyspace } from '@ivr/queue-contract';
import type { ObservationsFetcher } from './occupancy-cache';
import { createPushLease } from './push-lease';
import { createPushedFigures, observationTopic, parseChannelMessage, type ObservationGroup } from './pushed-figures';

/** The Genesys calls the push path makes (the Genesys client: through its one request path and the budget). */
export interface PushChannelApi {
  createNotificationChannel(): Promise<{ id: string; connectUri: string; expires?: string }>;
  subscribeNotificationChannel(channelId: string, topics: readonly string[]): Promise<void>;
}

export type PushLogger = Pick<Logger, 'info' | 'warn'>;

export interface OccupancyPushOptions {
  redis: Redis;
  ks: Keyspace;
  /** The queues decisions read (every queue of the routing policy): one topic each. */
  queueIds: readonly string[];
  api: PushChannelApi;
  /**
   * One observations query after each (re)subscription: Genesys pushes changes only, so the figures a channel
   * starts from (and those missed while the socket was down) come from one query.
   */
  fetchObservations: ObservationsFetcher;
  mediaType: string;
  /** OCCUPANCY_MAX_AGE_MS: a pushed figure lives this long after the channel last proved alive. */
  maxAgeMs: number;
  /** OCCUPANCY_PUSH_LEASE_MS: the holder's Redis lease; another process takes over within it when the holder dies. */
  leaseMs: number;
  /** OCCUPANCY_PUSH_PING_MS: `{"message":"ping"}` this often; nothing received for two of them = socket down. */
  pingMs: number;
  /**
   * False (OCCUPANCY_SOURCE unset): a channel Genesys refuses for good (`isPermanent`, e.g. 403 missing permission)
   * turns the push path off for this process's life and the workers poll. True: keep trying.
   */
  required: boolean;
  isPermanent: (err: unknown) => boolean;
  logger: PushLogger;
  /** Resubscribe this long before the channel expires (default 10 min, at most half the channel's life). */
  renewBeforeMs?: number;
}

export interface OccupancyPushStatus {
  holder: boolean;
  connected: boolean;
  /** False once Genesys refused the channel for good (OCCUPANCY_SOURCE unset): the workers poll. */
  enabled: boolean;
  channelId?: string;
  events: number;
  /** Channels created, subscriptions sent, sockets opened (counts, for tests and logs). */
  channels: number;
  subscriptions: number;
  connects: number;
}

export interface OccupancyPush {
  status(): OccupancyPushStatus;
  /** Closes the socket and gives the lease up (another process takes over at once). */
  stop(): Promise<void>;
}

/**
 * Queue figures pushed by Genesys instead of polled (issue 19). Every decide worker runs one; a Redis lease
 * (SET NX PX, renewed by the holder) lets exactly one per deployment hold a notification channel subscribed to
 * `v2.analytics.queues.{id}.observations` for the policy's queues. The holder writes each queue's latest figures
 * into the shared occupancy cache (storePushedObservations), so deciding code is unchanged and the decision
 * records `occupancySource: notification`. A figure lives until OCCUPANCY_MAX_AGE_MS after the channel last proved
 * alive (an event, a heartbeat or a pong); when the socket is down the entries are removed, the workers poll
 * (the occupancy cache's ordinary path) until the holder has reconnected, resubscribed and re-read the figures.
 */
export function startOccupancyPush(opts: OccupancyPushOptions): OccupancyPush {
  const { redis, ks, queueIds, api, logger, maxAgeMs, leaseMs, pingMs } = opts;
  const lease = createPushLease(redis, ks.occupancyPushLeader, leaseMs);
  const figures = createPushedFigures(redis, ks, queueIds, opts.mediaType);
  const topics = queueIds.map(observationTopic);
  const tickMs = Math.max(20, Math.min(leaseMs / 3, pingMs / 2, maxAgeMs / 4));

  const status: OccupancyPushStatus = { holder: false, connected: false, enabled: true, events: 0, channels: 0, subscriptions: 0, connects: 0 };
  let channel: { id: string; connectUri: string; expiresAt: number; lifeMs: number } | undefined;
  let subscribed = false;
  let socket: WebSocket | undefined;
  let connecting = false;
  let stopped = false;
  let lastMessageAt = 0;
  let lastPingAt = 0;
  let openedAt = 0;
  /** The socket answered something since it opened: only then are its figures trusted (and first read). */
  let alive = false;

  /** Pushed figures live until OCCUPANCY_MAX_AGE_MS after the channel last proved alive, and only while it is. */
  async function write(queues: readonly string[]): Promise<void> {
    const ttlMs = maxAgeMs - (Date.now() - lastMessageAt);
    if (!status.connected || !alive) return;
    await figures.write(queues, lastMessageAt, ttlMs);
  }

  async function seed(): Promise<void> {
    const started = Date.now();
    const res = await opts.fetchObservations(queueIds);
    for (const g of (res?.results ?? []) as ObservationGroup[]) figures.set(g, started, started);
    figures.seeded();
    await write(queueIds);
  }

  function onMessage(data: WebSocket.RawData): void {
    lastMessageAt = Date.now();
    if (!alive) {
      alive = true;
      seed().catch((err: Error) => {
        // No figures yet (e.g. the budget is used up): the workers keep polling; the next tick tries again.
        logger.warn({ err: err.message }, 'occupancy push: first read after subscribing failed; retrying');
        alive = false;
      });
    }
    const msg = parseChannelMessage(String(data));
    if (msg.kind === 'closing') {
      // Genesys warns about a minute before it closes a socket (maintenance): reconnect now.
      logger.info({ channelId: channel?.id }, 'occupancy push: Genesys is closing the socket; reconnecting');
      socket?.terminate();
      return;
    }
    if (msg.kind !== 'observation') return; // channel.metadata: heartbeat or pong, counted as a sign of life above
    figures.set(msg.group, lastMessageAt);
    status.events++;
    write([msg.queueId]).catch((err: Error) => logger.warn({ err: err.message }, 'occupancy push: could not store figures'));
  }

  /** `keepFigures`: the lease went to another process, whose figures may already be in the cache. */
  async function down(reason: string, keepFigures = false): Promise<void> {
    const was = status.connected;
    status.connected = false;
    alive = false;
    socket = undefined;
    subscribed = false; // resubscribe after a reconnect
    figures.unseed(); // events were missed: re-read once reconnected
    if (!was || keepFigures) return;
    // Stopping (deploy, Ctrl-C) is not an outage: another process takes the lease; say so at info, not warn.
    if (stopped) logger.info({ reason, channelId: channel?.id }, 'occupancy push handed over: this process is stopping');
    else logger.warn({ reason, channelId: channel?.id }, 'occupancy push down; workers poll Genesys until it is back');
    // Take the pushed figures out now, so the workers poll instead of using figures no longer kept current.
    await redis.del(...queueIds.map((q) => ks.occupancy(q))).catch(() => undefined);
  }

  function open(uri: string): Promise<WebSocket | 'gone'> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(uri, { handshakeTimeout: Math.max(1000, pingMs * 2) });
      ws.once('open', () => resolve(ws));
      // 404: the channel expired or was removed (the 21st channel rule): a new one is needed.
      ws.once('unexpected-response', (_req, res) => {
        ws.terminate();
        if (res.statusCode === 404) resolve('gone');
        else reject(new Error(`notification socket refused: HTTP ${res.statusCode}`));
      });
      ws.once('error', reject);
    });
  }

  async function connect(fresh = false): Promise<void> {
    if (!channel) {
      fresh = true;
      const c = await api.createNotificationChannel();
      status.channels++;
      const expiresAt = c.expires ? Date.parse(c.expires) : Date.now() + 86_400_000;
      channel = { id: c.id, connectUri: c.connectUri, expiresAt, lifeMs: Math.max(1000, expiresAt - Date.now()) };
      subscribed = false;
    }
    if (!subscribed) {
      await api.subscribeNotificationChannel(channel.id, topics);
      status.subscriptions++;
      subscribed = true;
      channel.expiresAt = Date.now() + channel.lifeMs;
    }
    const ws = await open(channel.connectUri);
    if (ws === 'gone') {
      const id = channel.id;
      channel = undefined;
      if (fresh) throw new Error(`notification channel ${id} was gone as soon as it was created`);
      logger.info({ channelId: id }, 'occupancy push: channel expired; opening a new one');
      return connect(true);
    }
    if (stopped || !status.holder) {
      ws.terminate();
      return;
    }
    status.connects++;
    socket = ws;
    status.connected = true;
    status.channelId = channel.id;
    openedAt = Date.now();
    lastPingAt = openedAt;
    ws.on('message', onMessage);
    ws.on('error', () => undefined); // 'close' follows and says it
    ws.once('close', () => {
      if (socket !== ws) return;
      void down('socket closed').then(() => kick());
    });
    logger.info({ channelId: channel.id, queues: queueIds.length }, 'occupancy push connected');
    // A ping now: its pong proves the socket delivers, and the figures are read once it has (onMessage).
    ws.send(JSON.stringify({ message: 'ping' }));
  }

  function kick(): void {
    if (stopped || !status.holder || !status.enabled || connecting || status.connected) return;
    connecting = true;
    connect()
      .catch(async (err: unknown) => {
        const message = (err as Error).message;
        if (/not found|404/i.test(message)) channel = undefined; // subscribing to an expired channel
        if (!opts.required && opts.isPermanent(err)) {
          status.enabled = false;
          logger.warn({ err: message }, 'occupancy push unavailable (Genesys refused the notification channel); OCCUPANCY_SOURCE is polling');
          await giveUp();
          return;
        }
        socket?.terminate();
        await down(message);
        logger.warn({ err: message }, 'occupancy push could not connect; workers poll Genesys, retrying');
      })
      .finally(() => {
        connecting = false;
      });
  }

  async function giveUp(): Promise<void> {
    status.holder = false;
    const ws = socket;
    await down('lease given up');
    ws?.terminate();
    await lease.release().catch(() => undefined);
  }

  async function tick(): Promise<void> {
    if (!status.enabled) return;
    if (status.holder) {
      if (!(await lease.renew())) {
        logger.warn({ channelId: channel?.id }, 'occupancy push: lease lost; another process holds the channel');
        status.holder = false;
        const ws = socket;
        await down('lease lost', true);
        ws?.terminate();
        return;
      }
    } else if (await lease.acquire()) {
      status.holder = true;
      logger.info({ queues: queueIds.length }, 'occupancy push: this process holds the notification channel');
    }
    if (!status.holder) return;
    if (!status.connected) return kick();
    const now = Date.now();
    if (now - Math.max(lastMessageAt, openedAt) > 2 * pingMs) {
      // Open but silent: nothing (not even a pong) for two pings.
      const ws = socket;
      await down('no message for two pings');
      ws?.terminate();
      return kick();
    }
    if (now - lastPingAt >= pingMs) {
      lastPingAt = now;
      socket?.send(JSON.stringify({ message: 'ping' }));
    }
    if (channel && channel.expiresAt - now < Math.min(opts.renewBeforeMs ?? 600_000, channel.lifeMs / 2)) {
      // "To maintain a channel for longer than 24 hours, resubscribe to topics" (Genesys notifications guide).
      await api.subscribeNotificationChannel(channel.id, topics);
      status.subscriptions++;
      channel.expiresAt = Date.now() + channel.lifeMs;
    }
    await write(queueIds);
  }

  let running: Promise<void> = Promise.resolve();
  const step = () => {
    running = running.then(tick).catch((err: Error) => logger.warn({ err: err.message }, 'occupancy push: tick failed'));
  };
  const timer = setInterval(step, tickMs);
  timer.unref();
  step();

  return {
    status: () => ({ ...status }),
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      if (status.holder) await giveUp();
    },
  };
}
