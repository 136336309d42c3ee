import { describe, expect, it } from 'vitest';
import { HttpError, errorBody } from './http-error';

describe('HttpError', () => {
  it('carries status, code, message, headers and cause', () => {
    const cause = new Error('redis gone');
    const e = new HttpError(503, 'store_unavailable', 'retry later', { headers: { 'Retry-After': '1' }, cause });
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({ name: 'HttpError', status: 503, code: 'store_unavailable', message: 'retry later', headers: { 'Retry-After': '1' } });
    expect(e.cause).toBe(cause);
  });

  it('has no headers and no cause unless given', () => {
    const e = new HttpError(400, 'bad_request', 'nope');
    expect(e.headers).toEqual({});
    expect('cause' in e).toBe(false);
  });

  it('errorBody is the one error shape', () => {
    expect(errorBody('too_deep', 'JSON nested deeper than 32 levels')).toEqual({ error: { code: 'too_deep', message: 'JSON nested deeper than 32 levels' } });
  });
});
