import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { createSimApp } from './app';
import type { SimState } from './state';
import type { SimOptions } from './types';

export interface StartSimOptions extends SimOptions {
  /** 0 = ephemeral (default). */
  port?: number;
  host?: string;
}

export interface RunningSim {
  url: string;
  port: number;
  state: SimState;
  close(): Promise<void>;
}

/** Starts the simulator on host:port (default 127.0.0.1, ephemeral port) and resolves once it listens. */
export function startSim(options: StartSimOptions = {}): Promise<RunningSim> {
  const { port = 0, host = '127.0.0.1', ...simOptions } = options;
  const { app, state } = createSimApp(simOptions);
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port, hostname: host }) as Server;
    server.once('error', (err) => reject(new Error(`Genesys simulator could not listen on ${host}:${port}: ${err.message}`)));
    server.once('listening', () => {
      const actual = (server.address() as AddressInfo).port;
      resolve({ url: `http://${host}:${actual}`, port: actual, state, close: () => closeServer(server) });
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeAllConnections();
  });
}
