import { Hono } from 'hono';
import { genesysError } from './genesys-error';
import { apiRoutes } from './routes/api';
import { controlRoutes } from './routes/control';
import type { SimEnv } from './routes/env';
import { bearer, faultInjector, recorder } from './routes/gateway';
import { tokenHandler } from './routes/oauth';
import { SimState } from './state';
import type { SimOptions } from './types';

export interface SimApp {
  app: Hono<SimEnv>;
  state: SimState;
}

/** The simulator as a Hono app (use `app.request()` in tests, or `startSim` for a real port). */
export function createSimApp(options: SimOptions = {}): SimApp {
  const state = new SimState(options);
  const app = new Hono<SimEnv>();

  app.route('/__sim', controlRoutes(state));
  app.use('*', recorder(state));
  app.use('/api/v2/*', bearer(state));
  app.use('*', faultInjector(state));
  app.post('/oauth/token', tokenHandler(state));
  app.route('/api/v2', apiRoutes(state));

  app.notFound((c) => c.json(genesysError(404, `No resource at ${c.req.method} ${c.req.path} in the Genesys simulator`, 'not.found'), 404));
  app.onError((err, c) => c.json(genesysError(500, `Simulator error: ${err.message}`), 500));
  return { app, state };
}
