import { HttpError } from '@ivr/core';

export const badRequest = (message: string) => new HttpError(400, 'bad_request', message);

/** The decision store failed (unreachable, timed out, refused): 503 with the reason. */
export function storeUnavailable(cause: unknown): HttpError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new HttpError(503, 'store_unavailable', `decision store unavailable: ${reason}`, { cause });
}
