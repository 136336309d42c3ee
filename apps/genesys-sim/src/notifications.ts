import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import { observe, type ObservationDatum } from './observations';
import type { QueueCounts } from './types';

/**
 * The Notifications API as Genesys documents it (developer.genesys.cloud/notificationsalerts/notifications/, and
 * GENESYS.md "Pushed figures"):
 * - `POST /api/v2/notifications/channels` answers the SDK's Channel model `{id, connectUri, expires}`;
 * - `PUT /api/v2/notifications/channels/{id}/subscriptions` replaces the channel's topics with the body
 *   `[{"id": topic}]` and answers ChannelTopicEntityListing `{entities: [{id}]}`; `GET` lists them;
 * - channels remain active for 24 hours; "to maintain a channel for longer than 24 hours, resubscribe to topics";
 * - at most 20 channels per client: creating a 21st removes the one used least recently (channels without an
 *   active connection first); at most 1,000 topics per channel;
 * - the WebSocket at connectUri sends `{"topicName", "eventBody"}`; every 30 s a heartbeat
 *   `{"topicName":"channel.metadata","eventBody":{"message":"WebSocket Heartbeat"}}`; a client's
 *   `{"message":"ping"}` is answered `{"topicName":"channel.metadata","eventBody":{"message":"pong"}}`.
 * Only the queue observation topic is simulated; any other topic is refused (400), never silently accepted.
 */
const MAX_CHANNELS = 20;
const MAX_TOPICS_PER_CHANNEL = 1000;
const TOPIC = /^v2\.analytics\.queues\.([^.\s]+)\.observations$/;

/** The metrics an observation event carries (what the simulator knows of a queue). */
const EVENT_METRICS = ['oOnQueueUsers', 'oActiveUsers', 'oMemberUsers', 'oWaiting', 'oInteracting', 'oAlerting'];

/**
 * The body of a `v2.analytics.queues.{id}.observations` event. The topic maps to StatsNotificationNotification in
 * Genesys' SDKs (the .NET SDK's NotificationTopics; the JavaScript SDK v262 has no model for it): one result group
 * per event, `{group: {queueId[, mediaType]}, data: [{interval, metrics: ObservationMetricData[]}]}`, the same
 * groups and metric data (qualifier, stats.count) as an observations query answers.
 */
interface ObservationEventBody {
  group: { queueId: string; mediaType?: string };
  data: Array<{ interval: string; metrics: ObservationDatum[] }>;
}

export interface SimChannel {
  id: string;
  createdAt: number;
  expiresAt: number;
  lastUsed: number;
  topics: string[];
  sockets: Set<WebSocket>;
}

export type SubscribeResult = { ok: true; topics: string[] } | { ok: false; status: 400 | 404; message: string };

/** Channels, their topics and sockets; the fault switches the control routes turn. */
export class SimNotifications {
  readonly channels = new Map<string, SimChannel>();
  /** Fault: the sockets stay open but nothing is sent (no events, heartbeats or pongs). */
  silent = false;
  heartbeatMs: number;
  channelTtlMs: number;
  eventsSent = 0;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(opts: { heartbeatMs?: number; channelTtlS?: number } = {}) {
    this.heartbeatMs = opts.heartbeatMs ?? 30_000;
    this.channelTtlMs = (opts.channelTtlS ?? 86_400) * 1000;
  }

  /** A live channel (an expired one is removed and its sockets closed). */
  channel(id: string, now = Date.now()): SimChannel | undefined {
    const channel = this.channels.get(id);
    if (channel && channel.expiresAt <= now) {
      this.remove(channel);
      return undefined;
    }
    return channel;
  }

  create(now = Date.now()): SimChannel {
    for (const c of [...this.channels.values()]) this.channel(c.id, now);
    if (this.channels.size >= MAX_CHANNELS) {
      const victim = [...this.channels.values()].sort((a, b) => Number(a.sockets.size > 0) - Number(b.sockets.size > 0) || a.lastUsed - b.lastUsed)[0];
      if (victim) this.remove(victim);
    }
    const channel: SimChannel = { id: randomUUID(), createdAt: now, expiresAt: now + this.channelTtlMs, lastUsed: now, topics: [], sockets: new Set() };
    this.channels.set(channel.id, channel);
    return channel;
  }

  /** Replaces the channel's topics and extends its life (resubscribing is how a channel outlives 24 h). */
  subscribe(id: string, body: unknown, now = Date.now()): SubscribeResult {
    const channel = this.channel(id, now);
    if (!channel) return { ok: false, status: 404, message: `Channel ${id} not found (it may have expired)` };
    if (!Array.isArray(body)) return { ok: false, status: 400, message: 'Request body must be an array of {"id": topic}' };
    const topics: string[] = [];
    for (const [i, t] of body.entries()) {
      const topic = typeof t === 'object' && t !== null ? (t as Record<string, unknown>).id : undefined;
      if (typeof topic !== 'string' || !TOPIC.test(topic)) {
        return { ok: false, status: 400, message: `[${i}].id must be a topic like v2.analytics.queues.{queueId}.observations (the only topic simulated)` };
      }
      if (!topics.includes(topic)) topics.push(topic);
    }
    if (topics.length > MAX_TOPICS_PER_CHANNEL) return { ok: false, status: 400, message: `A channel may subscribe to at most ${MAX_TOPICS_PER_CHANNEL} topics` };
    channel.topics = topics;
    channel.lastUsed = now;
    channel.expiresAt = now + this.channelTtlMs;
    return { ok: true, topics };
  }

  /** A WebSocket connected to the channel's connectUri. False when the channel does not exist (any more). */
  attach(id: string, socket: WebSocket): boolean {
    const channel = this.channel(id);
    if (!channel) return false;
    channel.sockets.add(socket);
    channel.lastUsed = Date.now();
    socket.on('close', () => channel.sockets.delete(socket));
    socket.on('message', (data) => {
      let msg: unknown;
      try {
        msg = JSON.parse(String(data));
      } catch {
        return;
      }
      if ((msg as { message?: unknown } | null)?.message === 'ping') this.send(socket, { topicName: 'channel.metadata', eventBody: { message: 'pong' } });
    });
    this.startHeartbeat();
    return true;
  }

  /** A queue's figures changed: every channel subscribed to its topic gets one event per result group. */
  publishQueue(queueId: string, counts: QueueCounts, now = Date.now()): void {
    const topicName = `v2.analytics.queues.${queueId}.observations`;
    const at = new Date(now).toISOString();
    const events = observe(queueId, EVENT_METRICS, counts).map((r) => ({
      topicName,
      eventBody: { group: r.group, data: [{ interval: `${at}/${at}`, metrics: r.data ?? [] }] } satisfies ObservationEventBody,
    }));
    for (const channel of this.channels.values()) {
      if (!channel.topics.includes(topicName) || !this.channel(channel.id, now)) continue;
      for (const socket of channel.sockets) for (const e of events) this.send(socket, e);
    }
  }

  /** Fault: every socket is cut without a close frame (the channels and their topics remain). */
  drop(): number {
    let n = 0;
    for (const c of this.channels.values()) {
      for (const s of c.sockets) {
        s.terminate();
        n++;
      }
    }
    return n;
  }

  /** Fault: every channel expires now (its sockets close; connecting or subscribing to it answers 404). */
  expire(): number {
    const n = this.channels.size;
    for (const c of [...this.channels.values()]) this.remove(c);
    return n;
  }

  list(now = Date.now()) {
    return [...this.channels.values()].map((c) => ({ id: c.id, expires: new Date(c.expiresAt).toISOString(), expired: c.expiresAt <= now, topics: c.topics, connections: c.sockets.size }));
  }

  reset(): void {
    this.expire();
    this.silent = false;
    this.eventsSent = 0;
  }

  close(): void {
    this.reset();
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  private remove(channel: SimChannel): void {
    this.channels.delete(channel.id);
    for (const s of channel.sockets) s.close(1000, 'channel expired');
    channel.sockets.clear();
  }

  private send(socket: WebSocket, message: { topicName: string; eventBody: unknown }): void {
    if (this.silent || socket.readyState !== socket.OPEN) return;
    socket.send(JSON.stringify(message));
    this.eventsSent++;
  }

  setHeartbeatMs(ms: number): void {
    this.heartbeatMs = ms;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    if ([...this.channels.values()].some((c) => c.sockets.size > 0)) this.startHeartbeat();
  }

  private startHeartbeat(): void {
    if (this.heartbeat) return;
    this.heartbeat = setInterval(() => {
      const now = Date.now();
      for (const c of [...this.channels.values()]) {
        if (!this.channel(c.id, now)) continue;
        for (const s of c.sockets) this.send(s, { topicName: 'channel.metadata', eventBody: { message: 'WebSocket Heartbeat' } });
      }
    }, this.heartbeatMs);
    this.heartbeat.unref();
  }
}
