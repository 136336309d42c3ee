import type { MiddlewareHandler } from 'hono';
import { HttpError } from '@ivr/core';

/** `application/json`, or a structured `+json` type (`application/vnd.x+json`), with any parameters. */
const JSON_MEDIA_TYPE = /^application\/([a-z0-9.+-]*\+)?json\b/i;

/** 415 unless the request says its body is JSON; nothing is read. */
export function requireJson(): MiddlewareHandler {
  return async function requireJson(c, next) {
    const ct = c.req.header('content-type') ?? '';
    if (!JSON_MEDIA_TYPE.test(ct)) {
      throw new HttpError(415, 'unsupported_media_type', `Content-Type must be application/json (got ${JSON.stringify(ct.slice(0, 100))})`);
    }
    await next();
  };
}
