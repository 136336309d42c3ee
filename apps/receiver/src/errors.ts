/** An error with an HTTP status and a stable code, rendered as `{"error":{"code","message"}}` by onError. */
export class HttpError extends Error {
  constructor(
    public readonly status: 400 | 401 | 413 | 415 | 422 | 503,
    public readonly code: string,
    message: string,
    public readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const errorBody = (code: string, message: string) => ({ error: { code, message } });

/** Reject after `ms` so a hung Redis never holds a webhook (the caller answers 503). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]);
}
