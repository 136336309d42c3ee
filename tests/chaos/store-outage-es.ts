/**
 * The chaos suite's own REAL Elasticsearch: a node on CHAOS_ES_PORT (9250) run by scripts/elasticsearch.sh, separate
 * from the one the other suites use on 9200, so the store scenarios can stop and start it for real. Under CI=true a
 * node that cannot start fails the scenario; elsewhere the scenario is skipped with the reason.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { isCi, testClient, type EsClient as Client } from '@ivr/reporting/real-elasticsearch';
import { REPO_ROOT } from '@ivr/testing';

export const CHAOS_ES_PORT = Number(process.env.CHAOS_ES_PORT ?? 9250);
export const CHAOS_ES_URL = `http://127.0.0.1:${CHAOS_ES_PORT}`;

/** Run `bash scripts/elasticsearch.sh <cmd>` for the chaos node; resolves with its exit code and output. */
export function esScript(cmd: 'start' | 'stop' | 'status'): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const p = spawn('bash', [join(REPO_ROOT, 'scripts/elasticsearch.sh'), cmd], { env: { ...process.env, ES_PORT: String(CHAOS_ES_PORT) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('close', (code) => resolve({ code: code ?? 1, out: out.trim() }));
  });
}

export interface ChaosNode {
  /** Whether the scenario runs (the node started, or CI, where a node that did not start must fail it). */
  run: boolean;
  problem: string;
  version: string;
}

/** Start the chaos node (idempotent). Never throws; see ChaosNode. */
export async function startChaosNode(): Promise<ChaosNode> {
  const r = await esScript('start');
  if (r.code === 0) return { run: true, problem: '', version: /Elasticsearch (\S+)/.exec(r.out)?.[1] ?? '?' };
  return { run: isCi(), problem: `the chaos Elasticsearch on ${CHAOS_ES_URL} did not start: ${r.out.split('\n').slice(-5).join(' | ')}`, version: '' };
}

export async function stopChaosNode(): Promise<void> {
  const r = await esScript('stop');
  if (r.code !== 0) throw new Error(`scripts/elasticsearch.sh stop failed: ${r.out}`);
}

/** Documents in `index` (after a refresh), how many of `ids` are there, and how many decisionIds occur twice. */
export async function storedFigures(client: Client, index: string, ids: readonly string[]): Promise<{ docs: number; found: number; duplicated: number }> {
  await client.indices.refresh({ index });
  const docs = (await client.count({ index })).count;
  const found = (await client.count({ index, query: { ids: { values: [...ids] } } })).count;
  const dup = await client.search({ index, size: 0, aggs: { twice: { terms: { field: 'decisionId', min_doc_count: 2, size: 100 } } } });
  const duplicated = ((dup.aggregations?.twice as { buckets?: unknown[] } | undefined)?.buckets ?? []).length;
  return { docs, found, duplicated };
}

export function chaosClient(): Client {
  return testClient(CHAOS_ES_URL);
}
