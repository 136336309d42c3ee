/** The statuses an expected failure is answered with (all carry a body). */
export type HttpErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 429 | 500 | 503;

/**
 * An expected failure of an HTTP request: a status, a stable machine-readable code and a one-line reason the caller
 * can act on. The receiver and the dashboard throw it and render it in their `onError` as `{"error":{"code","message"}}`
 * (`errorBody`), with `headers` (e.g. `Retry-After`) on the answer. Never a stack trace.
 */
export class HttpError extends Error {
  public readonly headers: Record<string, string>;
  constructor(
    public readonly status: HttpErrorStatus,
    public readonly code: string,
    message: string,
    options: { headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HttpError';
    this.headers = options.headers ?? {};
  }
}

/** The JSON body of an error answer. */
export const errorBody = (code: string, message: string) => ({ error: { code, message } });
