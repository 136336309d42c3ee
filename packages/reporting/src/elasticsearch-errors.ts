import { errors, type estypes } from '@elastic/elasticsearch';
import { StoreUnavailableError } from './store';

function isConnectionError(err: unknown): boolean {
  return err instanceof errors.ConnectionError || err instanceof errors.NoLivingConnectionsError || err instanceof errors.TimeoutError;
}

export function errorStatus(err: unknown): number | undefined {
  return err instanceof errors.ResponseError ? err.statusCode : undefined;
}

export function isRetryableStatus(status: number | undefined): boolean {
  return status === 429 || (status !== undefined && status >= 500);
}

/** A failed whole request: unreachable, 429 or 5xx → StoreUnavailableError (retry); anything else as it is. */
export function storeError(err: unknown, what: string): Error {
  if (isConnectionError(err) || isRetryableStatus(errorStatus(err))) {
    const msg = err instanceof Error ? err.message : String(err);
    return new StoreUnavailableError(`Elasticsearch unavailable (${what}): ${msg}`, { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}

export function describeError(error: estypes.ErrorCause | undefined, status: number): string {
  if (!error) return `status ${status}`;
  const cause = error.caused_by?.reason ? ` (caused by: ${error.caused_by.reason})` : '';
  return `${error.type}: ${error.reason ?? ''}${cause}`;
}
