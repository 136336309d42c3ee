import { randomUUID } from 'node:crypto';
import { CallLog } from './call-log';
import type { ActiveFault } from './faults';
import { SimNotifications } from './notifications';
import { MEDIA_TYPES, type FaultSpec, type MediaCounts, type MediaType, type Participant, type ParticipantPurpose, type QueueCounts, type QueueInput, type SimConversation, type SimOptions } from './types';

const zeroMedia = (): Record<MediaType, MediaCounts> =>
  Object.fromEntries(MEDIA_TYPES.map((m) => [m, { waiting: 0, interacting: 0, alerting: 0 }])) as Record<MediaType, MediaCounts>;

const ZERO: QueueCounts = Object.freeze({ idle: 0, interactingUsers: 0, media: zeroMedia(), estimatedWaitS: 0 });

/** Builds a queue's counts from `PUT /__sim/queues/{id}` input: flat figures are voice, `media` the others. */
export function queueCounts(input: QueueInput): QueueCounts {
  const media = zeroMedia();
  const voice = media.voice;
  voice.waiting = input.waiting ?? 0;
  voice.interacting = input.interacting ?? 0;
  voice.alerting = input.alerting ?? 0;
  for (const [type, counts] of Object.entries(input.media ?? {}) as Array<[MediaType, Partial<MediaCounts>]>) {
    Object.assign(media[type], counts);
  }
  const interactingConversations = MEDIA_TYPES.reduce((n, m) => n + media[m].interacting, 0);
  return { idle: input.idle ?? 0, interactingUsers: input.interactingUsers ?? interactingConversations, media, estimatedWaitS: input.estimatedWaitS ?? 0 };
}

/** Why a participant-attributes write was refused (the route turns it into Genesys' answer). */
export type AttributesRefusal = 'no_conversation' | 'no_participant' | 'ended';

/** Everything the simulator remembers. Plain data + small methods; the HTTP layer lives in routes/. */
export class SimState {
  clientId: string;
  clientSecret: string;
  tokenTtlS: number;
  readonly queues = new Map<string, QueueCounts>();
  readonly conversations = new Map<string, SimConversation>();
  /** token → expiry (epoch ms). */
  readonly tokens = new Map<string, number>();
  faults: ActiveFault[] = [];
  readonly calls: CallLog;
  tokensIssued = 0;
  readonly notifications: SimNotifications;

  constructor(options: SimOptions = {}) {
    this.notifications = new SimNotifications(options);
    this.clientId = options.clientId ?? 'sim-client';
    this.clientSecret = options.clientSecret ?? 'sim-secret';
    this.tokenTtlS = options.tokenTtlS ?? 86399;
    this.calls = new CallLog(options.callLogCapacity ?? 100_000);
  }

  queue(queueId: string): QueueCounts {
    return this.queues.get(queueId) ?? ZERO;
  }

  setQueue(queueId: string, input: QueueInput): QueueCounts {
    const next = queueCounts(input);
    this.queues.set(queueId, next);
    this.notifications.publishQueue(queueId, next);
    return next;
  }

  /** A call starts (replacing any earlier one with that id): the only way a conversation comes to exist. */
  createConversation(conversationId: string, participants: ReadonlyArray<{ id: string; purpose: ParticipantPurpose }>, now = new Date()): SimConversation {
    const startTime = now.toISOString();
    const conversation: SimConversation = {
      id: conversationId,
      startTime,
      participants: participants.map((p) => ({ id: p.id, purpose: p.purpose, attributes: {}, startTime })),
    };
    this.conversations.set(conversationId, conversation);
    return conversation;
  }

  /** The call ends: every participant disconnects. Undefined when the conversation is unknown. */
  endConversation(conversationId: string, now = new Date()): SimConversation | undefined {
    const conversation = this.conversations.get(conversationId);
    if (!conversation) return undefined;
    const endTime = now.toISOString();
    conversation.endTime ??= endTime;
    for (const p of conversation.participants) p.endTime ??= endTime;
    return conversation;
  }

  /** Merges attributes into an existing participant of a live call; refuses anything else, as Genesys does. */
  mergeAttributes(conversationId: string, participantId: string, attributes: Record<string, string>): Participant | AttributesRefusal {
    const conversation = this.conversations.get(conversationId);
    if (!conversation) return 'no_conversation';
    const participant = conversation.participants.find((p) => p.id === participantId);
    if (!participant) return 'no_participant';
    if (conversation.endTime !== undefined) return 'ended';
    Object.assign(participant.attributes, attributes);
    return participant;
  }

  issueToken(): { token: string; expiresIn: number } {
    const token = randomUUID();
    this.tokens.set(token, Date.now() + this.tokenTtlS * 1000);
    this.tokensIssued += 1;
    return { token, expiresIn: this.tokenTtlS };
  }

  isValidToken(token: string): boolean {
    const expiresAt = this.tokens.get(token);
    if (expiresAt === undefined) return false;
    if (expiresAt > Date.now()) return true;
    this.tokens.delete(token);
    return false;
  }

  expireTokens(): number {
    const n = this.tokens.size;
    this.tokens.clear();
    return n;
  }

  addFault(spec: FaultSpec): number {
    this.faults.push({ spec, seen: 0, injected: 0 });
    return this.faults.length;
  }

  reset(): void {
    this.queues.clear();
    this.conversations.clear();
    this.tokens.clear();
    this.faults = [];
    this.calls.clear();
    this.tokensIssued = 0;
    this.notifications.reset();
  }
}
