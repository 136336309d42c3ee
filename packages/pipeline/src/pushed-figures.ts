import type { Redis } from 'ioredis';
import { observationsToCounts } from '@ivr/core';
import type { Keyspace } from '@ivr/queue-contract';
import { storePushedObservations } from './occupancy-cache';

/** A result group of an observation event or query (see the simulator's notifications.ts for the documented shape). */
export interface ObservationGroup {
  group?: { queueId?: string; mediaType?: string };
  data?: Array<{ metric?: string; qualifier?: string; stats?: { count?: number } }>;
}

const TOPIC = /^v2\.analytics\.queues\.(.+)\.observations$/;
export const observationTopic = (queueId: string) => `v2.analytics.queues.${queueId}.observations`;

/** What one notification socket message says. */
export type ChannelMessage =
  /** Genesys warns about a minute before it closes a socket (maintenance). */
  | { kind: 'closing' }
  /** A queue's observation event: its latest figures, as a result group of that queue. */
  | { kind: 'observation'; queueId: string; group: ObservationGroup }
  /** channel.metadata (heartbeat, pong), another topic, or not JSON. */
  | { kind: 'other' };

export function parseChannelMessage(text: string): ChannelMessage {
  let msg: { topicName?: unknown; eventBody?: unknown };
  try {
    msg = JSON.parse(text) as typeof msg;
  } catch {
    return { kind: 'other' };
  }
  if (msg.topicName === 'v2.system.socket_closing') return { kind: 'closing' };
  const q = typeof msg.topicName === 'string' ? TOPIC.exec(msg.topicName)?.[1] : undefined;
  if (!q) return { kind: 'other' };
  const body = msg.eventBody as { group?: ObservationGroup['group']; data?: Array<{ metrics?: ObservationGroup['data'] }> } | undefined;
  const last = body?.data?.[body.data.length - 1];
  return { kind: 'observation', queueId: q, group: { group: { ...body?.group, queueId: q }, data: last?.metrics ?? [] } };
}

export interface PushedFigures {
  /** The latest group of a queue (per media type) from an event at `at`; with `onlyIfOlderThan`, kept only if no newer one arrived. */
  set(g: ObservationGroup, at: number, onlyIfOlderThan?: number): void;
  /** Every queue's figures are complete (one query read them since the socket opened). */
  seeded(): void;
  /** Events were missed (the socket went down): figures are incomplete until read again. */
  unseed(): void;
  /** Writes the complete figures of `queues` into the shared occupancy cache, as of `at`, living `ttlMs`. */
  write(queues: readonly string[], at: number, ttlMs: number): Promise<void>;
}

/** The holder's latest figures per queue and media type, and their hand-over to the shared occupancy cache. */
export function createPushedFigures(redis: Redis, ks: Keyspace, queueIds: readonly string[], mediaType: string): PushedFigures {
  /** queueId → group key (`` for the user group, else the media type) → latest group and when it arrived. */
  const groups = new Map<string, Map<string, { g: ObservationGroup; at: number }>>();
  /** Queues whose figures are complete (seeded since the socket opened). */
  const complete = new Set<string>();
  return {
    set(g, at, onlyIfOlderThan) {
      const q = g.group?.queueId;
      if (!q || !queueIds.includes(q)) return;
      const byKey = groups.get(q) ?? new Map<string, { g: ObservationGroup; at: number }>();
      groups.set(q, byKey);
      const k = g.group?.mediaType ?? '';
      const prev = byKey.get(k);
      if (onlyIfOlderThan !== undefined && prev && prev.at >= onlyIfOlderThan) return; // an event newer than the query
      byKey.set(k, { g, at });
    },
    seeded() {
      for (const q of queueIds) complete.add(q);
    },
    unseed() {
      complete.clear();
    },
    async write(queues, at, ttlMs) {
      const ready = queues.filter((q) => complete.has(q));
      if (ttlMs <= 0 || ready.length === 0) return;
      const entries = ready.map((q) => {
        const results = [...(groups.get(q)?.values() ?? [])].map((e) => e.g);
        const observation = observationsToCounts([q], { results }, at, mediaType).get(q)!;
        return { observation, ttlMs };
      });
      await storePushedObservations(redis, ks, entries);
    },
  };
}
