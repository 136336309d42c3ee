import type { SimEndpoint } from '../types';

/** Hono environment shared by the simulator's routes. */
export interface SimEnv {
  Variables: { endpoint: SimEndpoint };
}

/** Maps a request path to the endpoint name used in the call log, stats and faults. */
export function classifyPath(path: string): SimEndpoint {
  if (path === '/oauth/token') return 'token';
  if (path === '/api/v2/analytics/queues/observations/query') return 'observations';
  if (path.endsWith('/estimatedwaittime')) return 'estimatedwaittime';
  if (path.endsWith('/attributes')) return 'attributes';
  if (path.startsWith('/api/v2/conversations/')) return 'conversation';
  if (path.startsWith('/api/v2/notifications/') || path.startsWith('/channels/')) return 'notifications';
  return 'other';
}
