import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './config';
import { StartupError, startupReason } from './startup';

describe('startupReason', () => {
  it('a port in use names the port, the address and the variable', async () => {
    const a = createServer();
    await new Promise<void>((r) => a.listen(0, '127.0.0.1', r));
    const port = (a.address() as { port: number }).port;
    const b = createServer();
    const err = await new Promise<Error>((r) => b.once('error', r).listen(port, '127.0.0.1'));
    a.close();
    expect(startupReason(err, { app: 'receiver', portVar: 'RECEIVER_PORT' })).toBe(
      `port ${port} on 127.0.0.1 is already in use (RECEIVER_PORT); stop the other process or choose another port`,
    );
  });

  it('expected failures are one line; an unexpected error is not an expected failure', () => {
    expect(startupReason(new ConfigError(['A: x', 'B: y']), { app: 'x' })).toBe('Invalid configuration: A: x; B: y');
    expect(startupReason(new Error('ROUTING_POLICY p.yaml: not valid JSON or YAML: bad\n  1 | x\n    ^'), { app: 'worker' })).not.toContain('\n');
    expect(startupReason(new StartupError('Redis memory too small'), { app: 'worker' })).toBe('Redis memory too small');
    expect(startupReason(new TypeError('x is undefined'), { app: 'worker' })).toBeUndefined();
  });
});
