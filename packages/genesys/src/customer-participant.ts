import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Models } from 'purecloud-platform-client-v2';
import { GenesysApiError } from './errors';

/**
 * A write that cannot be addressed: the conversation is unknown to Genesys, or has no caller (`customer`)
 * participant. Not retryable: the webhook must name the participant, or the flow must send the real conversation id.
 */
export class ParticipantUnresolvableError extends Error {
  override readonly name = 'ParticipantUnresolvableError';
  constructor(message: string, readonly conversationId: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The participant purpose Genesys gives the caller (Participant.purpose; `ivr`, `acd`, `agent` are the others). */
export const CUSTOMER_PURPOSE = 'customer';

/**
 * The caller's participant id in a conversation as `GET /api/v2/conversations/{id}` returns it (the SDK's
 * Conversation model): the participant whose purpose is `customer`, a connected one (no endTime) first.
 */
export function customerParticipantId(conversation: Pick<Models.Conversation, 'participants'> | undefined): string | undefined {
  const customers = (conversation?.participants ?? []).filter((p) => p.purpose === CUSTOMER_PURPOSE && typeof p.id === 'string' && p.id.length > 0);
  return (customers.find((p) => !p.endTime) ?? customers[0])?.id;
}

export interface CustomerResolverOptions {
  /** Shared by every worker process: one conversation read per conversation per `ttlMs`, whoever asks. */
  redis: Redis;
  /** The deployment's key prefix (QUEUE_PREFIX); keys are `{prefix}:ivr:cust:{sha256(conversationId)}`. */
  prefix: string;
  /** `GET /api/v2/conversations/{id}` through the client's request path (ConversationsApi.getConversation). */
  getConversation(conversationId: string): Promise<Models.Conversation | undefined>;
  /** How long a resolved participant id is kept (default 5 minutes: a call's participants do not change ids). */
  ttlMs?: number;
}

export interface CustomerResolver {
  /** The conversation's customer participant id; rejects with ParticipantUnresolvableError or the GenesysApiError. */
  resolve(conversationId: string): Promise<string>;
  stats(): { lookups: number; cacheHits: number };
}

export const CUSTOMER_CACHE_TTL_MS = 300_000;

/** Resolves (and caches in Redis) the caller's participant id of a conversation, for webhooks that name none. */
export function createCustomerResolver(opts: CustomerResolverOptions): CustomerResolver {
  const ttlMs = opts.ttlMs ?? CUSTOMER_CACHE_TTL_MS;
  const inflight = new Map<string, Promise<string>>();
  const stats = { lookups: 0, cacheHits: 0 };
  // The conversation id comes from the webhook: hashed, it is data in the key, never part of its name.
  const key = (conversationId: string) => `${opts.prefix}:ivr:cust:${createHash('sha256').update(conversationId).digest('hex').slice(0, 40)}`;

  async function lookup(conversationId: string): Promise<string> {
    stats.lookups++;
    let conversation: Models.Conversation | undefined;
    try {
      conversation = await opts.getConversation(conversationId);
    } catch (err) {
      throw unresolvable(err, conversationId) ?? err;
    }
    const id = customerParticipantId(conversation);
    if (!id) {
      const purposes = [...new Set((conversation?.participants ?? []).map((p) => p.purpose ?? '?'))].join(', ') || 'none';
      throw new ParticipantUnresolvableError(
        `conversation ${conversationId} has no customer participant (participants' purposes: ${purposes}); send participantId in the webhook (the companion data action gives the caller's id)`,
        conversationId,
      );
    }
    await opts.redis.set(key(conversationId), id, 'PX', ttlMs);
    return id;
  }

  return {
    async resolve(conversationId) {
      const cached = await opts.redis.get(key(conversationId));
      if (cached) {
        stats.cacheHits++;
        return cached;
      }
      let p = inflight.get(conversationId);
      if (!p) {
        p = lookup(conversationId).finally(() => inflight.delete(conversationId));
        inflight.set(conversationId, p);
      }
      return p;
    },
    stats: () => ({ ...stats }),
  };
}

/** 404/403 on the conversation read are answers, not outages: turn them into a reason a user can act on. */
function unresolvable(err: unknown, conversationId: string): ParticipantUnresolvableError | undefined {
  if (!(err instanceof GenesysApiError)) return undefined;
  if (err.status === 404) {
    return new ParticipantUnresolvableError(
      `conversation ${conversationId} is unknown to Genesys (${err.message}); the flow must send its real conversation id (Call.ConversationId)`,
      conversationId,
      { cause: err },
    );
  }
  if (err.status === 403) {
    return new ParticipantUnresolvableError(
      `reading conversation ${conversationId} was refused (${err.message}); the OAuth client's role needs conversation:communication:view`,
      conversationId,
      { cause: err },
    );
  }
  return undefined;
}
