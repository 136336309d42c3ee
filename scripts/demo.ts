/**
 * `pnpm demo`: the whole pipeline in one process on the embedded defaults — the Genesys simulator, the
 * receiver, the three workers and the decision store (embedded, or Elasticsearch when ELASTICSEARCH_URL is set).
 * It creates 500 calls in the simulator (a customer and an IVR participant each, as real calls exist before their
 * webhooks), sends their webhooks (DTMF 1-4, both payload shapes, a quarter without a participant id so the worker
 * resolves the caller from the conversation, 10% re-deliveries) while the simulated queue's free agents change, waits until every call is decided, written back to the simulator and stored, prints a summary and
 * writes reports/heatmap.html. Exits non-zero if any call is lost or counted twice.
 */
import { rmSync } from 'node:fs';
import { Redis } from 'ioredis';
import { createLogger, decisionStoreConfig, describeParts, loadConfig } from '@ivr/config';
import { startSim } from '@ivr/genesys-sim';
import { startReceiver } from '@ivr/receiver';
import { startWorkers, genesysFromConfig } from '@ivr/worker';
import { deleteElasticsearchDecisions, writeHeatmapFile } from '@ivr/reporting';
import { keyspace } from '@ivr/queue-contract';
import { percentile } from '@ivr/core';
import { decisionIdFor, type DecisionRecord } from '@ivr/core';
import { deletePrefix } from '@ivr/testing';
import { createConversation } from '@ivr/genesys-sim/testing';
import { sendAll, type DemoCall } from './demo-lib';

const CALLS = Number(process.env.DEMO_CALLS ?? 500);
const PREFIX = 'ivr-demo';
// Free agents on the queue during each fifth of the calls (threshold 5): busy afternoon, then a lull.
const PHASES = [8, 5, 4, 2, 0];

const t0 = Date.now();
const sim = await startSim({ port: 0 });
const config = loadConfig({
  ...process.env,
  GENESYS_CLIENT_ID: '',
  GENESYS_CLIENT_SECRET: '',
  GENESYS_API_BASE: sim.url,
  QUEUE_PREFIX: PREFIX,
  RECEIVER_PORT: '0',
  RECEIVER_HOST: '127.0.0.1',
  GENESYS_RATE_PER_MIN: process.env.GENESYS_RATE_PER_MIN ?? '60000', // the simulator has no budget to protect
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  // Every accepted webhook, for `pnpm ivr replay reports/demo-recording.ndjson [--what-if --threshold N]`.
  RECORD_PATH: process.env.RECORD_PATH ?? 'reports/demo-recording.ndjson',
});
const logger = createLogger('demo', config.LOG_LEVEL);
const admin = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 3 });
await deletePrefix(admin, PREFIX);
if (config.RECORD_PATH) rmSync(config.RECORD_PATH, { force: true }); // this run's calls only

console.log(`IVR demo: ${CALLS} calls, queue ${config.TARGET_QUEUE_ID}, threshold ${config.OCCUPANCY_THRESHOLD}`);
// The dashboard reads one prefix (QUEUE_PREFIX, default ivr); the demo keeps its own so it never wipes a real one.
const dashboardCmd = `QUEUE_PREFIX=${PREFIX} pnpm --filter @ivr/dashboard start`;
const dashboardUrl = `http://127.0.0.1:${config.DASHBOARD_PORT}/admin/queues`;
console.log(`  ${'prefix'.padEnd(14)} ${PREFIX} (wiped at the next pnpm demo): see it with ${dashboardCmd}, then ${dashboardUrl}`);
for (const [k, v] of Object.entries(describeParts(config))) console.log(`  ${k.padEnd(14)} ${v}`);

const conversationOf = (i: number) => `demo-conv-${String(i).padStart(4, '0')}`;
const customerOf = (i: number) => `cust-${i}`;
const calls: DemoCall[] = Array.from({ length: CALLS }, (_, i) => {
  const dtmf = String((i % 4) + 1);
  const cid = conversationOf(i);
  // Every 4th tutorial payload names no participant: the worker reads the call and writes to its customer.
  if (i % 2 === 0) return { key: `demo-${i}`, body: { conversationId: cid, participantId: customerOf(i), dtmf } };
  return { key: `demo-${i}`, body: { flowInstanceId: cid, participants: [i % 4 === 3 ? { input: { dtmf } } : { id: customerOf(i), input: { dtmf } }] } };
});
// Elasticsearch: remove this demo's documents from an earlier run (its decision ids only), so "stored" is this run's.
const removed = await deleteElasticsearchDecisions(decisionStoreConfig(config), calls.map((c) => decisionIdFor(c.key)));
if (removed) console.log(`  (removed ${removed} documents of an earlier demo run from Elasticsearch)`);

const genesys = genesysFromConfig(config, logger);
await genesys.login();
const workers = await startWorkers(config, logger, genesys);
const receiver = await startReceiver(config, logger);

// The calls exist in Genesys before their webhooks (the strict simulator knows no other conversation).
for (let i = 0; i < CALLS; i += 50) {
  await Promise.all(Array.from({ length: Math.min(50, CALLS - i) }, (_, j) => createConversation(sim.url, conversationOf(i + j), { customerId: customerOf(i + j) })));
}

const ks = keyspace(PREFIX);
let acks: Awaited<ReturnType<typeof sendAll>> = { statuses: {}, ackMs: [] };
const perPhase = Math.ceil(CALLS / PHASES.length);
for (let p = 0; p < PHASES.length; p++) {
  await fetch(`${sim.url}/__sim/queues/${encodeURIComponent(config.TARGET_QUEUE_ID)}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ idle: PHASES[p], interacting: 10 - PHASES[p]!, waiting: p }),
  });
  // Let the shared occupancy cache see the new capacity before this phase's calls.
  await new Promise((r) => setTimeout(r, config.OCCUPANCY_CACHE_MS + 50));
  const phase = calls.slice(p * perPhase, (p + 1) * perPhase);
  const redelivered = phase.filter((_, i) => i % 10 === 0); // Genesys retries ~10% of webhooks
  const r = await sendAll(`${receiver.url}/webhook/genesys-dtmf`, [...phase, ...redelivered], 20);
  for (const [s, n] of Object.entries(r.statuses)) acks.statuses[s] = (acks.statuses[s] ?? 0) + n;
  acks.ackMs.push(...r.ackMs);
  // This phase's calls are decided on this phase's capacity: the queue changes only once they all are (on a loaded
  // machine decisions lag the acks, and the next phase's figures would otherwise reach them).
  const phaseDeadline = Date.now() + 60_000;
  while (Date.now() < phaseDeadline && (await admin.exists(...phase.map((c) => ks.decision(c.key)))) < phase.length) await new Promise((r) => setTimeout(r, 50));
}

const deadline = Date.now() + 120_000;
let stored = 0;
let applied = 0;
while (Date.now() < deadline) {
  stored = await workers.store.count();
  const counts = await workers.store.heatmap();
  applied = Number(((await (await fetch(`${sim.url}/__sim/stats`)).json()) as { byEndpoint?: Record<string, Record<string, number>> }).byEndpoint?.attributes?.['200'] ?? 0);
  if (stored >= CALLS && counts.total >= CALLS) {
    const writes = await receiver.queues.writes.getJobCounts('completed', 'failed', 'wait', 'active', 'delayed');
    // ...and every write outcome recorded on its decision (the report queue's second kind of job).
    const reports = await receiver.queues.reports.getJobCounts('wait', 'active', 'delayed');
    const idle = !reports.wait && !reports.active && !reports.delayed;
    if ((writes.completed ?? 0) + (writes.failed ?? 0) >= CALLS && !writes.wait && !writes.active && !writes.delayed && idle) break;
  }
  await new Promise((r) => setTimeout(r, 200));
}

const decisions = (await admin.mget(calls.map((c) => ks.decision(c.key)))).filter(Boolean).map((v) => JSON.parse(v!) as DecisionRecord);
// The decision landed on each call's customer participant (the ones resolved from the conversation included).
const conversations = await Promise.all(
  calls.slice(0, 50).map(async (_, i) => {
    const conv = (await (await fetch(`${sim.url}/__sim/conversations/${conversationOf(i)}`)).json()) as { participants?: Array<{ id: string; attributes?: Record<string, string> }> };
    return conv.participants?.find((p) => p.id === customerOf(i))?.attributes?.finalRoutingDecision !== undefined;
  }),
);
const heat = await workers.store.heatmap();
const file = await writeHeatmapFile(workers.store, config.REPORTS_DIR);
const writes = await receiver.queues.writes.getJobCounts('completed', 'failed');
const simStats = (await (await fetch(`${sim.url}/__sim/stats`)).json()) as { byEndpoint?: Record<string, Record<string, number>> };
const apiCalls = (ep: string) => Object.values(simStats.byEndpoint?.[ep] ?? {}).reduce((a, b) => a + b, 0);

console.log('');
console.log(`Webhooks sent ${Object.values(acks.statuses).reduce((a, b) => a + b, 0)}: ${Object.entries(acks.statuses).map(([s, n]) => `${n}× ${s}`).join(', ')}`);
console.log(`Decisions: ${decisions.length} made, ${heat.total} stored, ${writes.completed} written to Genesys (${writes.failed} failed)`);
console.log('');
console.log('DTMF  route_to_queue  route_to_vm  total');
for (const [i, row] of heat.dtmfByRoute.rows.entries()) {
  const c = heat.dtmfByRoute.counts[i]!;
  const qi = heat.dtmfByRoute.cols.indexOf('route_to_queue');
  const vi = heat.dtmfByRoute.cols.indexOf('route_to_vm');
  console.log(`${row.padEnd(6)}${String(c[qi] ?? 0).padStart(14)}${String(c[vi] ?? 0).padStart(13)}${String((c[qi] ?? 0) + (c[vi] ?? 0)).padStart(7)}`);
}
const lat = decisions.map((d) => d.latencyMs).sort((a, b) => a - b);
const ack = acks.ackMs.sort((a, b) => a - b);
console.log('');
console.log(`Webhook ack latency    p50 ${percentile(ack, 50).toFixed(1)} ms  p99 ${percentile(ack, 99).toFixed(1)} ms`);
console.log(`Decision latency       p50 ${percentile(lat, 50)} ms  p99 ${percentile(lat, 99)} ms (webhook received -> decided)`);
console.log(`Genesys API calls      ${apiCalls('observations')} observations queries (${(apiCalls('observations') / Math.max(1, decisions.length)).toFixed(3)} per decision), ${apiCalls('attributes')} attribute writes, ${apiCalls('conversation')} conversation reads (participant not named), ${apiCalls('token')} logins`);
console.log(`Occupancy cache        ${workers.occupancy.stats().cacheHits} hits, ${workers.occupancy.stats().analyticsCalls} analytics calls`);
console.log(`Store batches          ${workers.batcher.stats().batches} batches for ${workers.batcher.stats().docs} documents`);
console.log(`Heatmap                ${file.path} (${file.decisions} decisions)`);
if (config.RECORD_PATH) console.log(`Recording              ${config.RECORD_PATH} (what-if: pnpm ivr replay ${config.RECORD_PATH} --what-if --threshold 2)`);
console.log(`Done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

const problems: string[] = [];
if (decisions.length !== CALLS) problems.push(`${CALLS - decisions.length} calls were not decided`);
if (heat.total !== CALLS) problems.push(`store holds ${heat.total} decisions, expected ${CALLS}`);
if ((writes.completed ?? 0) !== CALLS) problems.push(`${CALLS - (writes.completed ?? 0)} decisions not written to Genesys`);
if (file.decisions !== CALLS) problems.push(`heatmap counts ${file.decisions}, expected ${CALLS}`);
if (conversations.some((ok) => !ok)) problems.push("some calls have no decision on their customer participant in the simulator");
if ((acks.statuses['202'] ?? 0) !== CALLS) problems.push(`expected ${CALLS} × 202, got ${acks.statuses['202'] ?? 0}`);

await receiver.close();
await workers.close();
await sim.close();
admin.disconnect();
if (problems.length) {
  console.error(`\nDEMO FAILED:\n  - ${problems.join('\n  - ')}`);
  process.exit(1);
}
console.log('\nAll calls decided, written back and recorded exactly once.');
console.log(`Dashboard for this run:  ${dashboardCmd}   ->  ${dashboardUrl} (heatmap: /admin/heatmap)`);
process.exit(0);
