import type { Context } from 'hono';
import type { SimState } from '../state';
import type { SimEnv } from './env';

interface Credentials {
  clientId: string;
  clientSecret: string;
}

function basicCredentials(header: string | undefined): Credentials | undefined {
  const match = /^basic\s+(\S+)$/i.exec(header ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { clientId: decoded.slice(0, colon), clientSecret: decoded.slice(colon + 1) };
}

function oauthError(c: Context<SimEnv>, status: 400 | 401, error: string, description: string) {
  return c.json({ error, description, error_description: description }, status);
}

/** POST /oauth/token: client-credentials grant, as login.{env} answers it. */
export function tokenHandler(state: SimState) {
  return async (c: Context<SimEnv>) => {
    const form = new URLSearchParams(await c.req.text());
    const grantType = form.get('grant_type');
    if (grantType !== 'client_credentials') {
      return oauthError(c, 400, grantType ? 'unsupported_grant_type' : 'invalid_request', `grant_type must be client_credentials (got ${grantType ?? 'nothing'})`);
    }
    const creds = basicCredentials(c.req.header('authorization'))
      ?? { clientId: form.get('client_id') ?? '', clientSecret: form.get('client_secret') ?? '' };
    if (creds.clientId !== state.clientId || creds.clientSecret !== state.clientSecret) {
      return oauthError(c, 401, 'invalid_client', 'client not found or bad client secret');
    }
    const { token, expiresIn } = state.issueToken();
    return c.json({ access_token: token, token_type: 'bearer', expires_in: expiresIn });
  };
}
