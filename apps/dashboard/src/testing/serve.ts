import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';

export interface RunningServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serve a Hono app with @hono/node-server on an ephemeral 127.0.0.1 port (for browser tests). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function serveOnEphemeralPort(app: Pick<Hono<any>, 'fetch'>): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        port: info.port,
        close: () =>
          new Promise<void>((done, fail) => {
            const s = server as unknown as { close(cb: (err?: Error) => void): void; closeAllConnections?: () => void };
            s.close((err) => (err ? fail(err) : done()));
            s.closeAllConnections?.();
          }),
      });
    });
    server.once('error', reject);
  });
}
