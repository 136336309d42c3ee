/**
 * afterDelivery on a real Node HTTP server and client: 'finish' (the answer handed over) runs the delivered callback;
 * a client that hangs up before the answer runs the not-delivered one; no Node response runs it at once.
 */
import { createServer, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { afterDelivery } from './prefer';

type Fate = 'delivered' | 'not delivered';

/** A server whose handler registers afterDelivery on each response, then lets the test decide what happens to it. */
async function serverWith(onRequest: (res: ServerResponse, fate: Promise<Fate>) => void) {
  const server = createServer((_req, res) => {
    const fate = new Promise<Fate>((resolve) => afterDelivery({ outgoing: res }, () => resolve('delivered'), () => resolve('not delivered')));
    onRequest(res, fate);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

describe('afterDelivery', () => {
  it('an answer handed to the client: delivered, once', async () => {
    let fate: Promise<Fate> | undefined;
    const { server, port } = await serverWith((res, f) => {
      fate = f;
      res.end('{"status":"decided"}');
    });
    close = () => new Promise((r) => server.close(() => r()));
    const body = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text());
    expect(body).toBe('{"status":"decided"}');
    expect(await fate).toBe('delivered');
  });

  it('a client that hangs up before the answer: not delivered', async () => {
    let fate: Promise<Fate> | undefined;
    let arrived: () => void = () => undefined;
    const inHandler = new Promise<void>((r) => (arrived = r));
    const { server, port } = await serverWith((_res, f) => {
      fate = f;
      arrived(); // no answer: the client goes away first
    });
    close = () => new Promise((r) => server.close(() => r()));
    const req = request({ host: '127.0.0.1', port, method: 'POST' });
    req.on('error', () => undefined);
    req.write('{}');
    await inHandler;
    req.destroy();
    expect(await fate).toBe('not delivered');
  });

  it('no Node response (app.request in tests): not delivered at once', () => {
    const seen: Fate[] = [];
    afterDelivery({}, () => seen.push('delivered'), () => seen.push('not delivered'));
    afterDelivery(undefined, () => seen.push('delivered'));
    expect(seen).toEqual(['not delivered']);
  });
});
