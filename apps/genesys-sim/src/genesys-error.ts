import { randomUUID } from 'node:crypto';

/** The body every Genesys Cloud API error carries. */
export interface GenesysErrorBody {
  message: string;
  code: string;
  status: number;
  contextId: string;
  details: unknown[];
  errors: unknown[];
}

const DEFAULT_CODES: Record<number, { code: string; message: string }> = {
  400: { code: 'bad.request', message: 'The request could not be understood by the server due to malformed syntax.' },
  401: { code: 'bad.credentials', message: 'Invalid login credentials.' },
  403: { code: 'not.authorized', message: 'You are not authorized to perform the requested action.' },
  404: { code: 'not.found', message: 'The requested resource was not found.' },
  409: { code: 'conflict', message: 'The request could not be completed due to a conflict with the current state of the resource.' },
  429: { code: 'too.many.requests.retry.after', message: 'Rate limit exceeded the maximum. Retry the request in [1] seconds' },
  500: { code: 'internal.server.error', message: 'The server encountered an unexpected condition which prevented it from fulfilling the request.' },
  502: { code: 'bad.gateway', message: 'The server received an invalid response from an upstream server.' },
  503: { code: 'service.unavailable', message: 'Service Unavailable - The server is currently unavailable (because it is overloaded or down for maintenance).' },
  504: { code: 'gateway.timeout', message: 'The request timed out.' },
};

/** Builds a Genesys-shaped error body; code and message default to what Genesys says for that status. */
export function genesysError(status: number, message?: string, code?: string): GenesysErrorBody {
  const known = DEFAULT_CODES[status];
  return {
    message: message ?? known?.message ?? `HTTP ${status}`,
    code: code ?? known?.code ?? `http.${status}`,
    status,
    contextId: randomUUID(),
    details: [],
    errors: [],
  };
}
