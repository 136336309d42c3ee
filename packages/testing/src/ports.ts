import { createServer } from 'node:net';

/** A TCP port on 127.0.0.1 nobody listens on right now (the OS picks it; it may be taken again before it is used). */
export async function freePort(): Promise<number> {
  return new Promise((resolveP, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolveP(port));
    });
  });
}
