import type { GenesysErrorKind } from './types';

/** What went wrong with a Genesys call, and what to do about it (`kind`). */
export interface GenesysErrorClassification {
  kind: GenesysErrorKind;
  status?: number;
  code?: string;
  message: string;
  contextId?: string;
  retryAfterMs?: number;
}

/** Rejection of a Genesys API call, classified (retryable | rate_limited | reauth | fatal). */
export class GenesysApiError extends Error {
  override readonly name = 'GenesysApiError';
  readonly kind: GenesysErrorKind;
  readonly status?: number;
  readonly code?: string;
  readonly contextId?: string;
  readonly retryAfterMs?: number;
  /** Which call failed: `token`, `observations`, `attributes`, `conversation`. */
  readonly endpoint: string;

  constructor(classification: GenesysErrorClassification, endpoint: string, options?: { cause?: unknown }) {
    super(`${classification.message} [${endpoint}]`, options);
    this.kind = classification.kind;
    this.status = classification.status;
    this.code = classification.code;
    this.contextId = classification.contextId;
    this.retryAfterMs = classification.retryAfterMs;
    this.endpoint = endpoint;
  }

  get retryable(): boolean {
    return this.kind !== 'fatal';
  }
}

/** Client-credentials login refused (bad client id/secret or environment). Not retryable: fix the configuration. */
export class GenesysAuthError extends Error {
  override readonly name = 'GenesysAuthError';
  readonly kind: GenesysErrorKind = 'fatal';

  constructor(message: string, readonly status?: number, readonly code?: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN',
  'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'ERR_NETWORK', 'ERR_SOCKET_CONNECTION_TIMEOUT', 'UND_ERR_SOCKET',
]);

const DEFAULT_RETRY_AFTER_MS = 1000;

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/** Reads a header from a plain object or an AxiosHeaders instance (names are lower-case on the wire). */
function header(headers: unknown, name: string): string | undefined {
  if (!isObj(headers)) return undefined;
  const getter = headers.get;
  const value = typeof getter === 'function' ? (getter as (n: string) => unknown).call(headers, name) : undefined;
  const raw = value ?? headers[name] ?? headers[name.toLowerCase()];
  if (Array.isArray(raw)) return str(raw[0]);
  return typeof raw === 'number' ? String(raw) : str(raw);
}

/** `Retry-After` in seconds (or an HTTP date) → milliseconds; 1000 when missing or unreadable. */
export function retryAfterMs(value: string | undefined, now = Date.now()): number {
  if (value === undefined) return DEFAULT_RETRY_AFTER_MS;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? DEFAULT_RETRY_AFTER_MS : Math.max(0, date - now);
}

function kindOfStatus(status: number): GenesysErrorKind {
  if (status === 401) return 'reauth';
  if (status === 429) return 'rate_limited';
  if (status === 408 || status === 409 || status >= 500) return 'retryable';
  return 'fatal';
}

interface HttpFailure {
  status: number;
  body: unknown;
  headers: unknown;
}

/** Finds status/body/headers in an extended SDK rejection, an AxiosError, or a bare Genesys error body. */
function httpFailure(err: Obj): HttpFailure | undefined {
  if (typeof err.status === 'number' && 'body' in err) return { status: err.status, body: err.body, headers: err.headers };
  const response = err.response;
  if (isObj(response) && typeof response.status === 'number') return { status: response.status, body: response.data, headers: response.headers };
  if (typeof err.status === 'number' && typeof err.code === 'string' && typeof err.message === 'string' && !(err instanceof Error)) {
    return { status: err.status, body: err, headers: undefined };
  }
  return undefined;
}

function fromHttp({ status, body, headers }: HttpFailure): GenesysErrorClassification {
  const b = isObj(body) ? body : {};
  const code = str(b.code) ?? str(b.error);
  const text = str(b.message) ?? str(b.description) ?? str(b.error_description) ?? (typeof body === 'string' && body ? body : 'no error message in the response');
  const contextId = str(b.contextId);
  const kind = kindOfStatus(status);
  const out: GenesysErrorClassification = {
    kind,
    status,
    message: `Genesys ${status}${code ? ` ${code}` : ''}: ${text}${contextId ? ` (contextId ${contextId})` : ''}`,
  };
  if (code) out.code = code;
  if (contextId) out.contextId = contextId;
  if (kind === 'rate_limited') {
    out.retryAfterMs = retryAfterMs(header(headers, 'retry-after'));
    out.message += `; retry after ${out.retryAfterMs} ms`;
  }
  return out;
}

function fromNetwork(err: Obj): GenesysErrorClassification | undefined {
  const code = str(err.code) ?? (isObj(err.cause) ? str(err.cause.code) : undefined);
  const isAxios = err.isAxiosError === true;
  const message = str(err.message) ?? 'network error';
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT' || /timeout/i.test(message)) {
    return { kind: 'retryable', code: code ?? 'ETIMEDOUT', message: `Genesys request timed out: ${message}` };
  }
  if ((code && NETWORK_CODES.has(code)) || isAxios) {
    return { kind: 'retryable', code, message: `Genesys unreachable (${code ?? 'network error'}): ${message}` };
  }
  return undefined;
}

/**
 * Classifies anything a Genesys SDK call can reject with:
 * 409/408/5xx/network/timeouts → retryable; 429 → rate_limited (retryAfterMs from `Retry-After`);
 * 401 → reauth; other 4xx → fatal. Unknown errors are fatal (a bug, not a transient condition).
 */
export function classifyGenesysError(err: unknown): GenesysErrorClassification {
  // The write has no participant to address (customer-participant.ts): an answer, never retried.
  if (err instanceof Error && err.name === 'ParticipantUnresolvableError') return { kind: 'fatal', message: err.message };
  if (err instanceof GenesysApiError) {
    const { kind, status, code, contextId, retryAfterMs: ra } = err;
    return { kind, status, code, contextId, retryAfterMs: ra, message: err.message };
  }
  if (err instanceof GenesysAuthError) return { kind: 'fatal', status: err.status, code: err.code, message: err.message };
  if (!isObj(err)) return { kind: 'fatal', message: `Genesys call failed: ${String(err)}` };
  const http = httpFailure(err);
  if (http) return fromHttp(http);
  // Extended responses wrap the AxiosError in `error` when there was no HTTP answer.
  const network = fromNetwork(err) ?? (isObj(err.error) ? fromNetwork(err.error) : undefined);
  if (network) return network;
  return { kind: 'fatal', message: `Genesys call failed: ${str(err.message) ?? JSON.stringify(err)}` };
}
