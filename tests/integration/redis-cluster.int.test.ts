/**
 * Ingest + decide against a local 3-master Redis Cluster, with a hash-tagged QUEUE_PREFIX (`{...}`).
 * Our code takes ioredis `Redis`; an ioredis `Cluster` is passed in its place (createRedis has no cluster mode
 * yet, see docs/operations.md "Redis Cluster"). Skipped, with the reason, when this machine's redis-server /
 * redis-cli cannot build a cluster.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Worker, type Job } from 'bullmq';
import { Cluster, Redis } from 'ioredis';
import { loadConfig } from '@ivr/config';
import { bodyFingerprint, singleQueuePolicy, type DecisionRecord } from '@ivr/core';
import { createConversationStore, createOccupancyCache, processDecide } from '@ivr/pipeline';
import { createIdempotencyStore, ingestEvent } from '@ivr/intake';
import { createQueues, keyspace, type IvrQueues } from '@ivr/queue-contract';
import { genesysFromConfig, startWorkers } from '@ivr/worker';
import { startReceiver } from '@ivr/receiver';
import { freePort, silentLogger, startRedisServer, waitFor, type RedisServer } from '@ivr/testing';
import { createConversation, startTestSim, type TestSim } from '@ivr/genesys-sim/testing';

function clusterSupport(): string | undefined {
  const server = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (server.status !== 0) return 'redis-server is not installed';
  const cli = spawnSync('redis-cli', ['--cluster', 'help'], { encoding: 'utf8' });
  if (!`${cli.stdout}${cli.stderr}`.includes('create')) return 'redis-cli --cluster create is not available';
  return undefined;
}
const unsupported = clusterSupport();

/** A free port whose cluster bus port (+10000) is a valid port too. */
async function clusterPort(): Promise<number> {
  for (;;) {
    const p = await freePort();
    if (p > 1024 && p + 10000 < 65536) return p;
  }
}

const EVENTS = 30;
const QUEUE = 'cluster-q';

describe.skipIf(unsupported)(`Redis Cluster (3 masters, hash-tagged prefix)${unsupported ? ` — skipped: ${unsupported}` : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ivr-cluster-reports-'));
  const nodes: RedisServer[] = [];
  const prefix = `{ivrc-${Date.now().toString(36)}}`;
  const cluster = () => new Cluster(nodes.map((n) => ({ host: '127.0.0.1', port: n.port })), { redisOptions: { maxRetriesPerRequest: null } });
  let producer: Cluster;
  let workerConn: Cluster;
  let queues: IvrQueues;
  let worker: Worker | undefined;
  let sim: TestSim;

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) nodes.push(await startRedisServer({ port: await clusterPort(), args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'] }));
    const created = spawnSync('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8' });
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    for (const n of nodes) {
      const r = new Redis(n.port, '127.0.0.1');
      await waitFor(async () => (await r.cluster('INFO')).toString().includes('cluster_state:ok'), `cluster_state:ok on ${n.port}`, 15_000, 100);
      r.disconnect();
    }
    producer = cluster();
    workerConn = cluster();
    queues = createQueues(producer as unknown as Redis, prefix, { applyAttempts: 3, applyBackoffMs: 50 });
    sim = await startTestSim();
    await sim.control.setQueue(QUEUE, { idle: 6 });
  }, 60_000);

  afterAll(async () => {
    await worker?.close();
    await queues?.close();
    producer?.disconnect();
    workerConn?.disconnect();
    await sim?.close();
    await Promise.all(nodes.map((n) => n.stop()));
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('ingests and decides every event once; our keys and BullMQ\'s share the prefix\'s slot', async () => {
    const conn = producer as unknown as Redis;
    const ks = keyspace(prefix);
    const idempotency = createIdempotencyStore(conn, ks, 600);
    const keys = Array.from({ length: EVENTS }, (_, i) => `cl-${i}`);
    const ingest = (k: string, i: number) => {
      const body = { conversationId: `cl-conv-${i}`, participantId: `p-${i}`, dtmf: '1' };
      return ingestEvent(
        { idempotency, events: queues.events },
        { idempotencyKey: k, receivedAt: Date.now(), conversationId: body.conversationId, participantId: body.participantId, flowInstanceId: body.conversationId, dtmf: '1', source: 'data-action' },
        bodyFingerprint(body),
      );
    };
    expect((await Promise.all(keys.map(ingest))).map((o) => o.kind)).toEqual(keys.map(() => 'accepted'));
    expect((await ingest(keys[0]!, 0)).kind).toBe('duplicate');

    const config = loadConfig({ GENESYS_API_BASE: sim.url, QUEUE_PREFIX: prefix, LOG_LEVEL: 'silent' });
    const genesys = genesysFromConfig(config, silentLogger as never);
    const conversations = createConversationStore(conn, ks, 600);
    const occupancy = createOccupancyCache({ redis: conn, ks, cacheMs: 1000, fetch: (q) => genesys.queryObservations(q) });
    const deps = { conversations, occupancy, policy: singleQueuePolicy(QUEUE, 5), defaultRoute: 'route_to_queue' as const, writes: queues.writes, reports: queues.reports, publisher: conn, ks, logger: silentLogger as never };
    worker = new Worker(queues.events.name, (job: Job) => processDecide(job, deps), { connection: workerConn as unknown as Redis, prefix, concurrency: 5 });
    await waitFor(async () => (await queues.events.getJobCounts('completed')).completed === EVENTS, `${EVENTS} decisions on the cluster`, 30_000, 100);

    const decisions = await Promise.all(keys.map(async (k) => JSON.parse((await producer.get(ks.decision(k)))!) as DecisionRecord));
    expect(decisions.every((d) => d.routing_decision === 'route_to_queue' && d.queue_occupancy === 6)).toBe(true);
    expect((await queues.writes.getJobCounts('waiting')).waiting).toBe(EVENTS);
    // One slot for the whole prefix: the hash tag decides it.
    const slots = new Set(await Promise.all([ks.decision('cl-0'), ks.conversation('cl-conv-0'), `${prefix}:ivr-events:meta`].map((k) => producer.cluster('KEYSLOT', k))));
    expect(slots.size).toBe(1);
  }, 60_000);

  it('without a hash tag BullMQ refuses (CROSSSLOT): QUEUE_PREFIX needs {...} on a cluster', async () => {
    const plain = createQueues(producer as unknown as Redis, `plain-${Date.now().toString(36)}`, { applyAttempts: 1, applyBackoffMs: 10 });
    try {
      await expect(plain.events.add('x', {})).rejects.toThrow(/CROSSSLOT/);
    } finally {
      await plain.close();
    }
  });

  it('the apps run on the cluster: REDIS_URL=redis-cluster://… and a hash-tagged prefix, webhook to attributes and store', async () => {
    const config = loadConfig({
      REDIS_URL: `redis-cluster://${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`,
      QUEUE_PREFIX: `{ivrapp-${Date.now().toString(36)}}`,
      GENESYS_API_BASE: sim.url,
      TARGET_QUEUE_ID: QUEUE,
      RECEIVER_PORT: '0',
      RECEIVER_HOST: '127.0.0.1',
      REPORTS_DIR: dir,
      REPORT_LINGER_MS: '20',
      GENESYS_RATE_PER_MIN: '60000',
      WRITE_BACK: 'always', // the first call waits for its decision (Prefer) and the test reads every call's attributes
      WORKER_METRICS_PORT: '0',
      LOG_LEVEL: 'silent',
    });
    const logger = silentLogger as unknown as Parameters<typeof startWorkers>[1];
    const genesys = genesysFromConfig(config, logger);
    await genesys.login();
    const running = await startWorkers(config, logger, genesys);
    const receiver = await startReceiver(config, logger);
    try {
      const post = (i: number, headers: Record<string, string> = {}) =>
        fetch(`${receiver.url}/webhook/genesys-dtmf`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ conversationId: `app-conv-${i}`, participantId: 'p', dtmf: '2' }),
        });
      for (let i = 0; i < 20; i++) await createConversation(sim, `app-conv-${i}`, { customerId: 'p' });
      const waited = await (await post(0, { prefer: 'wait=5' })).json();
      expect(waited).toMatchObject({ status: 'decided', routing: 'route_to_queue', availableAgents: 6 });
      const statuses = await Promise.all(Array.from({ length: 19 }, (_, i) => post(i + 1).then((r) => r.status)));
      expect(statuses.every((st) => st === 202)).toBe(true);
      await waitFor(async () => (await running.store.count()) === 20, '20 decisions stored on the cluster', 20_000, 100);
      for (let i = 0; i < 20; i++) {
        const conv = (await sim.control.conversation(`app-conv-${i}`)) as { participants: Array<{ attributes: Record<string, string> }> } | undefined;
        expect(conv?.participants[0]?.attributes.finalRoutingDecision).toBe('route_to_queue');
      }
    } finally {
      await receiver.close();
      await running.close();
    }
  }, 60_000);
});
