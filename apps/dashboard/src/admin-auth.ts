import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';

export const ADMIN_REALM = 'ivr-admin';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time comparison: both sides are hashed first so lengths never leak. */
export function tokenMatches(provided: string, expectedDigest: Buffer): boolean {
  return timingSafeEqual(digest(provided), expectedDigest);
}

/** The secret presented in `Authorization`: `Bearer <token>` or Basic with the token as password (any user). */
export function presentedSecret(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const space = header.indexOf(' ');
  if (space < 0) return undefined;
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === 'bearer') return value || undefined;
  if (scheme === 'basic') {
    let decoded: string;
    try {
      decoded = Buffer.from(value, 'base64').toString('utf8');
    } catch {
      return undefined;
    }
    const colon = decoded.indexOf(':');
    return colon < 0 ? undefined : decoded.slice(colon + 1);
  }
  return undefined;
}

/**
 * Admin authentication for every `/admin/*` route (Bull Board's API and static assets included).
 * Without a token configured, requests pass (the process binds to 127.0.0.1 only in that case).
 * A failed check answers 401 with `WWW-Authenticate: Basic` so a browser prompts for credentials.
 */
export function adminAuth(opts: { token?: string | undefined }): MiddlewareHandler {
  const expected = opts.token ? digest(opts.token) : undefined;
  return async (c, next) => {
    if (!expected) return next();
    const secret = presentedSecret(c.req.header('authorization'));
    if (secret !== undefined && tokenMatches(secret, expected)) return next();
    c.header('WWW-Authenticate', `Basic realm="${ADMIN_REALM}", charset="UTF-8"`);
    c.header('Cache-Control', 'no-store');
    return c.json(
      {
        error: {
          code: 'unauthorized',
          message: secret === undefined ? 'admin token required (Authorization: Bearer <token> or Basic with the token as password)' : 'invalid admin token',
        },
      },
      401,
    );
  };
}
