/**
 * For test suites that need a real Elasticsearch (`@ivr/reporting/real-elasticsearch`): where it is, and whether the
 * suite runs. Under CI (`CI=true`) the suites always run, so an unreachable node FAILS them with the reason; on a
 * developer's machine without a node they are skipped, with one line saying how to get one.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Client } from '@elastic/elasticsearch';
import { loadTestEnv, type TestEnv } from '@ivr/config';

export type { Client as EsClient };

export interface ElasticsearchTarget {
  /** The node's URL (ELASTICSEARCH_URL, else ELASTICSEARCH_HOST); undefined when unset. */
  url: string | undefined;
  /** The node's version when it answered. */
  version?: string;
  /** Whether the suite runs: the node answered, or we are in CI (where a missing node must fail, not skip). */
  run: boolean;
  /** Why the node is not usable ('' when it is); the skip message, or the failure under CI. */
  problem: string;
}

export const HOW_TO_GET_ELASTICSEARCH = 'bash scripts/elasticsearch.sh starts a real node; then ELASTICSEARCH_URL=http://127.0.0.1:9200';

/** CI=true or CI=1 (loadTestEnv). */
export function isCi(env: TestEnv = loadTestEnv()): boolean {
  return env.CI;
}

/** Probe the configured node once (3 s). Never throws. */
export async function elasticsearchTarget(env: TestEnv = loadTestEnv()): Promise<ElasticsearchTarget> {
  const url = env.ELASTICSEARCH_URL ?? env.ELASTICSEARCH_HOST;
  const ci = env.CI;
  if (!url) return { url, run: ci, problem: `ELASTICSEARCH_URL is not set (${HOW_TO_GET_ELASTICSEARCH})` };
  const client = testClient(url, env, 3000);
  try {
    // Nodes info, not `GET /`: the integ-test distribution has no rest-root module (GET / answers 405 there).
    const res = await client.nodes.info({ node_id: '_local', filter_path: 'nodes.*.version' });
    const version = Object.values(res.nodes ?? {})[0]?.version;
    return { url, version, run: true, problem: '' };
  } catch (err) {
    return { url, run: ci, problem: `Elasticsearch at ${url} is not reachable: ${(err as Error).message} (${HOW_TO_GET_ELASTICSEARCH})` };
  } finally {
    await client.close();
  }
}

/** A client for test set-up and inspection, with the same credentials the apps would use. */
export function testClient(url: string, env: TestEnv = loadTestEnv(), requestTimeout = 30000): Client {
  return new Client({
    node: url,
    requestTimeout,
    maxRetries: 0,
    ...(env.ELASTICSEARCH_API_KEY ? { auth: { apiKey: env.ELASTICSEARCH_API_KEY } } : {}),
  });
}

/** Throw the target's problem (call in beforeAll: under CI a suite without a usable node fails with the reason). */
export function assertUsable(target: ElasticsearchTarget): asserts target is ElasticsearchTarget & { url: string } {
  if (target.problem || !target.url) throw new Error(target.problem || 'ELASTICSEARCH_URL is not set');
}

/** Print the skip reason once per suite (vitest shows skipped tests without saying why). */
export function announceSkip(suite: string, target: ElasticsearchTarget): void {
  if (!target.run) console.warn(`[${suite}] skipped: ${target.problem}`);
}

/**
 * A TCP forwarder on a fixed local port, starting closed: closed = connection refused (the node is down for whoever
 * uses `url`), open = forwarded to `to`. A real outage on the wire without stopping the shared node.
 */
export async function tcpGate(to: URL): Promise<{ url: string; open(): Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const makeServer = () =>
    createServer((client) => {
      const upstream = connect(Number(to.port), to.hostname);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
  const listen = (srv: Server, port: number) => new Promise<number>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => resolve((srv.address() as { port: number }).port));
  });
  let server: Server | undefined = makeServer();
  const port = await listen(server, 0);
  const shut = async () => {
    const s = server;
    server = undefined;
    if (!s) return;
    for (const c of sockets) c.destroy();
    await new Promise<void>((r) => s.close(() => r()));
  };
  await shut(); // start closed
  return {
    url: `http://127.0.0.1:${port}`,
    async open() {
      if (server) return;
      server = makeServer();
      await listen(server, port);
    },
    close: shut,
  };
}

