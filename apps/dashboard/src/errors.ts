import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** An error with an HTTP status and a stable machine-readable code; `onError` renders it as JSON. */
export class HttpError extends Error {
  constructor(
    public readonly status: ContentfulStatusCode,
    public readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HttpError';
  }
}

export const badRequest = (message: string) => new HttpError(400, 'bad_request', message);

/** The decision store failed (unreachable, timed out, refused): 503 with the reason. */
export function storeUnavailable(cause: unknown): HttpError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new HttpError(503, 'store_unavailable', `decision store unavailable: ${reason}`, { cause });
}
