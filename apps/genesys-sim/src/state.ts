import { randomUUID } from 'node:crypto';
import { CallLog } from './call-log';
import type { ActiveFault } from './faults';
import type { FaultSpec, Participant, QueueCounts, SimConversation, SimOptions } from './types';

const ZERO: QueueCounts = Object.freeze({ idle: 0, interacting: 0, waiting: 0, alerting: 0 });

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

  constructor(options: SimOptions = {}) {
    this.clientId = options.clientId ?? 'sim-client';
    this.clientSecret = options.clientSecret ?? 'sim-secret';
    this.tokenTtlS = options.tokenTtlS ?? 86399;
    this.calls = new CallLog(options.callLogCapacity ?? 100_000);
  }

  queue(queueId: string): QueueCounts {
    return this.queues.get(queueId) ?? ZERO;
  }

  setQueue(queueId: string, counts: Partial<QueueCounts>): QueueCounts {
    const next = { ...ZERO, ...counts };
    this.queues.set(queueId, next);
    return next;
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

  /** Finds or creates (the sim is permissive) the participant, then merges attributes. */
  mergeAttributes(conversationId: string, participantId: string, attributes: Record<string, string>): Participant {
    let conversation = this.conversations.get(conversationId);
    if (!conversation) {
      conversation = { id: conversationId, participants: [] };
      this.conversations.set(conversationId, conversation);
    }
    let participant = conversation.participants.find((p) => p.id === participantId);
    if (!participant) {
      participant = { id: participantId, purpose: 'customer', attributes: {} };
      conversation.participants.push(participant);
    }
    Object.assign(participant.attributes, attributes);
    return participant;
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
  }
}
