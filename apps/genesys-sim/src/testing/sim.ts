/**
 * The simulator's test helpers (issue 16 item 4): start it in-process, create calls, drive its /__sim control API.
 * Imported by tests, chaos, bench and scripts/demo.ts as `@ivr/genesys-sim/testing`; they live with the app they
 * drive so that no package imports an app.
 */
import { startSim } from '../server';
import type { ConversationBody } from '../routes/api';
import type { SimState } from '../state';
import type { CallRecord, FaultSpec, ParticipantPurpose, QueueCounts, QueueInput, SimEndpoint, SimOptions, SimStats } from '../types';

/** A participant of a call to create: purposes as Genesys uses them (customer, ivr, acd, agent). */
export interface NewParticipant {
  id: string;
  purpose: ParticipantPurpose;
}

export interface NewConversation {
  /** The caller's participant id (purpose `customer`); default `{conversationId}-customer`. */
  customerId?: string;
  /**
   * Every participant, instead of the default customer + ivr pair. A call with no `customer` participant is allowed
   * (tests of that refusal need it).
   */
  participants?: NewParticipant[];
}

/**
 * Creates a call in the simulator (`PUT /__sim/conversations/{cid}`), as a real call exists before its webhooks:
 * the strict simulator answers 404 for a conversation nobody created. Default participants: the caller
 * (`customer`, id `customerId` or `{conversationId}-customer`) and the IVR (`ivr`, `{conversationId}-ivr`).
 * `sim` is a simulator base URL or anything with a `url` (a TestSim). Resolves with the conversation as
 * `GET /api/v2/conversations/{cid}` shows it.
 */
export async function createConversation(sim: string | { url: string }, conversationId: string, opts: NewConversation = {}): Promise<ConversationBody> {
  const base = typeof sim === 'string' ? sim : sim.url;
  const participants = opts.participants ?? [
    { id: opts.customerId ?? `${conversationId}-customer`, purpose: 'customer' },
    { id: `${conversationId}-ivr`, purpose: 'ivr' },
  ];
  const res = await fetch(`${base}/__sim/conversations/${encodeURIComponent(conversationId)}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ participants }),
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`Genesys simulator could not create conversation ${conversationId}: ${res.status} ${text}`);
  return JSON.parse(text) as ConversationBody;
}

export interface SimControl {
  /** Flat figures are voice; `media: {"chat": {"waiting": 40}}` sets other media types. */
  setQueue(queueId: string, counts: QueueInput & { idle: number }): Promise<QueueCounts>;
  /** The same as `createConversation(url, ...)`. */
  createConversation(conversationId: string, opts?: NewConversation): Promise<ConversationBody>;
  /** Ends the call (`DELETE /__sim/conversations/{cid}`): later attribute writes are refused. */
  endConversation(conversationId: string): Promise<void>;
  /** Recorded API calls (optionally one endpoint only, optionally from a global index on). */
  calls(endpoint?: SimEndpoint, since?: number): Promise<CallRecord[]>;
  /** The conversation as GET /api/v2/conversations/{cid} returns it, or undefined when unknown. */
  conversation(conversationId: string): Promise<ConversationBody | undefined>;
  fault(spec: FaultSpec): Promise<void>;
  clearFaults(): Promise<void>;
  expireTokens(): Promise<number>;
  reset(): Promise<void>;
  stats(): Promise<SimStats & { tokensIssued: number; activeTokens: number }>;
  config(patch: { tokenTtlS?: number; clientId?: string; clientSecret?: string }): Promise<void>;
}

export interface TestSim {
  url: string;
  port: number;
  state: SimState;
  close(): Promise<void>;
  control: SimControl;
  /** Credentials the simulator accepts. */
  clientId: string;
  clientSecret: string;
}

async function call<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}/__sim${path}`, {
    method,
    headers: body === undefined ? undefined : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok && res.status !== 404) throw new Error(`Genesys simulator control ${method} /__sim${path} failed: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** HTTP helpers for the simulator's /__sim control API. */
export function simControl(url: string): SimControl {
  return {
    setQueue: (queueId, counts) => call(url, 'PUT', `/queues/${encodeURIComponent(queueId)}`, counts),
    createConversation: (conversationId, opts) => createConversation(url, conversationId, opts),
    endConversation: async (conversationId) => {
      await call(url, 'DELETE', `/conversations/${encodeURIComponent(conversationId)}`);
    },
    calls: async (endpoint, since = 0) => {
      const query = new URLSearchParams({ since: String(since), ...(endpoint ? { endpoint } : {}) });
      return (await call<{ calls: CallRecord[] }>(url, 'GET', `/calls?${query}`)).calls;
    },
    conversation: async (conversationId) => {
      const res = await fetch(`${url}/__sim/conversations/${encodeURIComponent(conversationId)}`);
      if (res.status === 404) return undefined;
      if (!res.ok) throw new Error(`Genesys simulator control GET conversation ${conversationId} failed: ${res.status}`);
      return (await res.json()) as ConversationBody;
    },
    fault: async (spec) => {
      await call(url, 'POST', '/faults', spec);
    },
    clearFaults: async () => {
      await call(url, 'DELETE', '/faults');
    },
    expireTokens: async () => (await call<{ expired: number }>(url, 'POST', '/tokens/expire')).expired,
    reset: async () => {
      await call(url, 'POST', '/reset');
    },
    stats: () => call(url, 'GET', '/stats'),
    config: async (patch) => {
      await call(url, 'PUT', '/config', patch);
    },
  };
}

/** Starts the Genesys simulator on 127.0.0.1 with an ephemeral port, for tests. Close it in afterAll. */
export async function startTestSim(opts: SimOptions = {}): Promise<TestSim> {
  const sim = await startSim({ ...opts, port: 0, host: '127.0.0.1' });
  return {
    url: sim.url,
    port: sim.port,
    state: sim.state,
    close: sim.close,
    control: simControl(sim.url),
    clientId: sim.state.clientId,
    clientSecret: sim.state.clientSecret,
  };
}
