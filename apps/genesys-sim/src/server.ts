import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { serve } from '@hono/node-server';
import { WebSocketServer } from 'ws';
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
    const sockets = new WebSocketServer({ noServer: true });
    server.on('upgrade', (req, socket, head) => upgrade(state, sockets, req, socket, head));
    server.once('error', (err) => reject(new Error(`Genesys simulator could not listen on ${host}:${port}: ${err.message}`)));
    server.once('listening', () => {
      const actual = (server.address() as AddressInfo).port;
      resolve({ url: `http://${host}:${actual}`, port: actual, state, close: () => {
        state.notifications.close();
        sockets.close();
        return closeServer(server);
      } });
    });
  });
}

/**
 * A notification channel's WebSocket (`GET /channels/{id}` with Upgrade). An unknown or expired channel is refused
 * with 404 before the upgrade. Recorded in the call log like any API call (101 or 404, endpoint `notifications`).
 */
function upgrade(state: SimState, sockets: WebSocketServer, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const path = new URL(req.url ?? '/', 'http://sim').pathname;
  const id = /^\/channels\/([^/]+)$/.exec(path)?.[1];
  if (!id || !state.notifications.channel(id)) {
    state.calls.record('GET', path, 404, 'notifications');
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  sockets.handleUpgrade(req, socket, head, (ws) => {
    state.calls.record('GET', path, 101, 'notifications');
    if (!state.notifications.attach(id, ws)) ws.close(1000, 'channel expired');
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeAllConnections();
  });
}
