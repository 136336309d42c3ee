/**
 * A minimal Elasticsearch for the store-outage scenario: enough of the wire protocol for the real
 * @elastic/elasticsearch client and the product's Elasticsearch store (index template HEAD/PUT, index PUT,
 * `_bulk` create with 201 / 409 per item, update (write outcomes) with 200 / 404 document_missing_exception, `_count`/`_search` answering counts only). It can be taken down: `refuse` closes the listener (connection
 * refused), `unavailable` answers 503 like a cluster without a master.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export type FakeEsMode = 'up' | 'refuse' | 'unavailable';

export interface FakeEs {
  url: string;
  port: number;
  /** decisionId → document, every document ever created. */
  docs: Map<string, unknown>;
  stats: { bulkRequests: number; created: number; updated: number; conflicts: number; refusedWindows: number; unavailableAnswers: number; createdTwice: number };
  setMode(mode: FakeEsMode): Promise<void>;
  close(): Promise<void>;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=UTF-8', 'x-elastic-product': 'Elasticsearch' };

function send(res: ServerResponse, status: number, body?: unknown): void {
  res.writeHead(status, JSON_HEADERS);
  res.end(body === undefined ? undefined : JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeEs(port = 0): Promise<FakeEs> {
  const docs = new Map<string, unknown>();
  const templates = new Set<string>();
  const indices = new Set<string>();
  const stats = { bulkRequests: 0, created: 0, updated: 0, conflicts: 0, refusedWindows: 0, unavailableAnswers: 0, createdTwice: 0 };
  let mode: FakeEsMode = 'up';

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const parts = url.pathname.split('/').filter(Boolean);
    const body = await readBody(req);
    if (mode === 'unavailable') {
      stats.unavailableAnswers++;
      return send(res, 503, {
        error: { type: 'cluster_block_exception', reason: 'blocked by: [SERVICE_UNAVAILABLE/2/no master];' },
        status: 503,
      });
    }
    if (req.method === 'GET' && parts.length === 0) {
      return send(res, 200, { name: 'fake-es', cluster_name: 'chaos', version: { number: '8.19.2', build_flavor: 'default' }, tagline: 'You Know, for Search' });
    }
    if (parts[0] === '_index_template' && parts[1]) {
      if (req.method === 'HEAD') return send(res, templates.has(parts[1]) ? 200 : 404);
      if (req.method === 'PUT') {
        templates.add(parts[1]);
        return send(res, 200, { acknowledged: true });
      }
    }
    if (parts.at(-1) === '_bulk' && (req.method === 'POST' || req.method === 'PUT')) {
      stats.bulkRequests++;
      const lines = body.split('\n').filter((l) => l.trim().length > 0);
      const defaultIndex = parts.length > 1 ? parts[0] : undefined;
      const items: unknown[] = [];
      for (let i = 0; i < lines.length; i += 2) {
        const action = JSON.parse(lines[i]!) as Record<string, { _id?: string; _index?: string }>;
        const [op, meta] = Object.entries(action)[0]!;
        const index = meta._index ?? defaultIndex ?? 'unknown';
        const id = meta._id ?? `auto-${docs.size}`;
        const doc = JSON.parse(lines[i + 1] ?? '{}') as unknown;
        if (op === 'update') {
          // A partial-document update (write outcomes): merged into the stored document; a missing one is a 404
          // document_missing_exception, as Elasticsearch answers it.
          const current = docs.get(id) as Record<string, unknown> | undefined;
          if (!current) {
            items.push({ update: { _index: index, _id: id, status: 404, error: { type: 'document_missing_exception', reason: `[${id}]: document missing`, index } } });
            continue;
          }
          docs.set(id, { ...current, ...((doc as { doc?: Record<string, unknown> }).doc ?? {}) });
          stats.updated++;
          items.push({ update: { _index: index, _id: id, _version: 2, result: 'updated', status: 200, _seq_no: stats.created + stats.updated, _primary_term: 1 } });
          continue;
        }
        if (op === 'create' && docs.has(id)) {
          stats.conflicts++;
          items.push({
            create: {
              _index: index,
              _id: id,
              status: 409,
              error: { type: 'version_conflict_engine_exception', reason: `[${id}]: version conflict, document already exists (current version [1])`, index },
            },
          });
          continue;
        }
        docs.set(id, doc);
        stats.created++;
        items.push({ [op]: { _index: index, _id: id, _version: 1, result: 'created', status: 201, _seq_no: stats.created, _primary_term: 1 } });
      }
      stats.createdTwice = stats.created - docs.size;
      const errors = items.some((it) => Object.values(it as Record<string, { status: number }>)[0]!.status >= 300);
      return send(res, 200, { took: 1, errors, items });
    }
    // Reads (the worker regenerates the heatmap after batches): counts only, no aggregations.
    if (parts.at(-1) === '_count') return send(res, 200, { count: docs.size, _shards: { total: 1, successful: 1, skipped: 0, failed: 0 } });
    if (parts.at(-1) === '_search') {
      return send(res, 200, { took: 1, timed_out: false, hits: { total: { value: docs.size, relation: 'eq' }, max_score: null, hits: [] }, aggregations: {} });
    }
    if (req.method === 'PUT' && parts.length === 1) {
      const index = parts[0]!;
      if (indices.has(index)) {
        return send(res, 400, { error: { type: 'resource_already_exists_exception', reason: `index [${index}] already exists` }, status: 400 });
      }
      indices.add(index);
      return send(res, 200, { acknowledged: true, shards_acknowledged: true, index });
    }
    return send(res, 404, { error: { type: 'fake_es_unsupported', reason: `${req.method} ${url.pathname} is not simulated` }, status: 404 });
  };

  let server: Server = createServer((req, res) => void handler(req, res).catch((e: Error) => send(res, 500, { error: { type: 'fake_es_error', reason: e.message } })));
  const listen = (s: Server, p: number) =>
    new Promise<number>((resolve, reject) => {
      s.once('error', reject);
      s.listen(p, '127.0.0.1', () => {
        const addr = s.address();
        resolve(typeof addr === 'object' && addr ? addr.port : p);
      });
    });
  const closeServer = (s: Server) =>
    new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  const actualPort = await listen(server, port);

  return {
    url: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    docs,
    stats,
    async setMode(next) {
      if (next === mode) return;
      if (next === 'refuse') {
        stats.refusedWindows++;
        mode = next;
        await closeServer(server);
        return;
      }
      if (mode === 'refuse') {
        server = createServer((req, res) => void handler(req, res).catch((e: Error) => send(res, 500, { error: { type: 'fake_es_error', reason: e.message } })));
        await listen(server, actualPort);
      }
      mode = next;
    },
    async close() {
      if (mode !== 'refuse') await closeServer(server);
    },
  };
}
