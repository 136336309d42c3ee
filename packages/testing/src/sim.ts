import { startSim, type CallRecord, type FaultSpec, type QueueCounts, type SimConversation, type SimEndpoint, type SimOptions, type SimState, type SimStats } from '@ivr/genesys-sim';

export interface SimControl {
  setQueue(queueId: string, counts: { idle: number; interacting?: number; waiting?: number; alerting?: number }): Promise<QueueCounts>;
  /** Recorded API calls (optionally one endpoint only, optionally from a global index on). */
  calls(endpoint?: SimEndpoint, since?: number): Promise<CallRecord[]>;
  /** The conversation as GET /api/v2/conversations/{cid} returns it, or undefined when unknown. */
  conversation(conversationId: string): Promise<SimConversation | undefined>;
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
    calls: async (endpoint, since = 0) => {
      const query = new URLSearchParams({ since: String(since), ...(endpoint ? { endpoint } : {}) });
      return (await call<{ calls: CallRecord[] }>(url, 'GET', `/calls?${query}`)).calls;
    },
    conversation: async (conversationId) => {
      const res = await fetch(`${url}/__sim/conversations/${encodeURIComponent(conversationId)}`);
      if (res.status === 404) return undefined;
      if (!res.ok) throw new Error(`Genesys simulator control GET conversation ${conversationId} failed: ${res.status}`);
      return (await res.json()) as SimConversation;
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
