import { describe, expect, it } from 'vitest';
import { parseClusterUrl } from './redis';

describe('parseClusterUrl (REDIS_URL redis-cluster://)', () => {
  it('a plain redis:// URL is not a cluster', () => {
    expect(parseClusterUrl('redis://127.0.0.1:6379')).toBeUndefined();
    expect(parseClusterUrl('rediss://h:6380/0')).toBeUndefined();
  });

  it('reads the seed nodes, credentials (URL-decoded) and TLS', () => {
    expect(parseClusterUrl('redis-cluster://a:7000,b:7001')).toEqual({ nodes: [{ host: 'a', port: 7000 }, { host: 'b', port: 7001 }], tls: false });
    expect(parseClusterUrl('rediss-cluster://user:p%40ss@h1:7000/')).toEqual({ nodes: [{ host: 'h1', port: 7000 }], username: 'user', password: 'p@ss', tls: true });
    expect(parseClusterUrl('redis-cluster://:secret@h1:7000')).toEqual({ nodes: [{ host: 'h1', port: 7000 }], password: 'secret', tls: false });
  });

  it('a node without a port gets 6379', () => {
    expect(parseClusterUrl('redis-cluster://h1,h2:7001')?.nodes).toEqual([{ host: 'h1', port: 6379 }, { host: 'h2', port: 7001 }]);
  });

  it.each(['redis-cluster://h1:0', 'redis-cluster://h1:70000', 'redis-cluster://h1:port', 'redis-cluster://:7000', 'redis-cluster://h1:7000,'])('a bad node names itself: %s', (url) => {
    expect(() => parseClusterUrl(url)).toThrow(/REDIS_URL: bad cluster node ".*" \(expected host:port\)/);
  });
});
