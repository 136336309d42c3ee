/**
 * `pnpm ivr` as an operator runs it (a child process, real Redis, real BullMQ): --help on every sub-command,
 * QUEUE_PREFIX and RECEIVER_PORT honoured, `failed --json`.
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UnrecoverableError, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueues, keyspace, QUEUE_NAMES, type IvrQueues } from '@ivr/queue-contract';
import { createRedis } from '@ivr/redis';
import { testRedis, TEST_REDIS_URL, waitFor } from '@ivr/testing';

const root = fileURLToPath(new URL('../../', import.meta.url));

function ivr(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(root, 'scripts/ivr.ts'), ...args], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', REDIS_URL: TEST_REDIS_URL, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('pnpm ivr', () => {
  const t = testRedis('cli');
  let conn: ReturnType<typeof createRedis>;
  let queues: IvrQueues;

  beforeAll(async () => {
    conn = createRedis(TEST_REDIS_URL, 'worker');
    queues = createQueues(conn, t.prefix, { applyAttempts: 1, applyBackoffMs: 10 });
    // One write that fails for good under this test's prefix, with the ids a real apply job carries.
    await queues.writes.add('apply', { idempotencyKey: 'cli-k1', conversationId: 'cli-conv', decisionId: 'd-cli' }, { jobId: 'apply-d-cli', attempts: 1 });
    const w = new Worker(QUEUE_NAMES.writes, async () => {
      throw new UnrecoverableError('Genesys 404 not.found: conversation ended (contextId 0f0e0d0c-cli)');
    }, { connection: createRedis(TEST_REDIS_URL, 'worker'), prefix: t.prefix });
    await waitFor(async () => (await queues.writes.getFailedCount()) === 1, 'the job in the failed set');
    await w.close();
  });
  afterAll(async () => {
    await queues.close();
    conn.disconnect();
    await t.cleanup();
  });

  it('--help on every sub-command prints that command and exits 0 (also with other arguments)', async () => {
    const cmds = [['replay', '--what-if'], ['failed', '--json'], ['retry', '--all']] as const;
    // Each run is a fresh tsx process (seconds each on a busy machine): run them side by side.
    const [helps, short, viaHelp, bad] = await Promise.all([
      Promise.all(cmds.map(([cmd, flag]) => ivr([cmd, flag, '--help'], {}))),
      ivr(['failed', '-h'], {}),
      ivr(['help', 'retry'], {}),
      ivr(['failed', '--nope'], {}),
    ]);
    cmds.forEach(([cmd], i) => {
      const r = helps[i]!;
      expect(r.code, `${cmd} --help: ${r.stderr}`).toBe(0);
      expect(r.stdout).toContain(`usage: pnpm ivr ${cmd}`);
      expect(r.stderr).toBe('');
    });
    expect(short.code).toBe(0);
    expect(viaHelp.stdout).toContain('usage: pnpm ivr retry');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('usage: pnpm ivr failed');
  }, 120_000);

  it('replay --what-if --max-wait / --max-wait-policy replays the stored decisions against another maxEstimatedWaitS', async () => {
    const ks = keyspace(t.prefix);
    const decision = (key: string, dtmf: string, occ: number, route: string, estimatedWaitS?: number) =>
      JSON.stringify({ decisionId: `d-${key}`, idempotencyKey: key, dtmf, queue_occupancy: occ, routing_decision: route, occupancySource: 'poll', threshold: 2, ...(estimatedWaitS !== undefined ? { estimatedWaitS } : {}) });
    await t.redis.set(ks.decision('w1'), decision('w1', '1', 5, 'route_to_queue', 75));
    await t.redis.set(ks.decision('w2'), decision('w2', '1', 5, 'route_to_vm', 120));
    await t.redis.set(ks.decision('w3'), decision('w3', '2', 5, 'route_to_queue')); // no figure stored
    const dir = mkdtempSync(join(tmpdir(), 'ivr-whatif-'));
    const file = join(dir, 'rec.ndjson');
    writeFileSync(file, ['w1', 'w2', 'w3'].map((k) => JSON.stringify({ receivedAt: '', idempotencyKey: k, prefix: t.prefix, headers: {}, body: {} })).join('\n') + '\n');
    const policy = join(dir, 'policy.yaml');
    writeFileSync(policy, 'default: { queueId: q, threshold: 2 }\ndigits:\n  "1": { queueId: q, maxEstimatedWaitS: 150 }\n');
    const [global, perDigit, help, both] = await Promise.all([
      ivr(['replay', file, '--what-if', '--max-wait', '60'], {}),
      ivr(['replay', file, '--what-if', '--max-wait-policy', policy], {}),
      ivr(['replay', '--help'], {}),
      ivr(['replay', file, '--what-if', '--max-wait', '60', '--max-wait-policy', policy], {}),
    ]);
    expect(global.code, global.stderr).toBe(0);
    expect(global.stdout).toContain('What-if: maxEstimatedWaitS 60 for every call');
    expect(global.stdout).toContain('1 of 3 calls (33.3%) would change route: 0 to route_to_queue, 1 to route_to_vm; 1 kept with no figure');
    expect(perDigit.code, perDigit.stderr).toBe(0);
    expect(perDigit.stdout).toContain('1 of 3 calls (33.3%) would change route: 1 to route_to_queue, 0 to route_to_vm');
    expect(help.stdout).toContain('--max-wait S|none | --max-wait-policy FILE');
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('give --max-wait or --max-wait-policy, not both');
  }, 120_000);

  it('failed --json: one JSON object with the prefix, counts per queue and each job with its reason (QUEUE_PREFIX honoured)', async () => {
    const r = await ivr(['failed', '--json'], { QUEUE_PREFIX: t.prefix });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { prefix: string; counts: Record<string, number>; jobs: Array<Record<string, unknown>> };
    expect(out.prefix).toBe(t.prefix);
    expect(out.counts).toEqual({ [QUEUE_NAMES.events]: 0, [QUEUE_NAMES.writes]: 1, [QUEUE_NAMES.reports]: 0 });
    expect(out.jobs).toHaveLength(1);
    expect(out.jobs[0]).toMatchObject({ queue: QUEUE_NAMES.writes, jobId: 'apply-d-cli', attemptsMade: 1, conversationId: 'cli-conv', decisionId: 'd-cli' });
    expect(String(out.jobs[0]!.failedReason)).toContain('Genesys 404');
    // Another prefix sees none of it; the text form names the prefix it read.
    const other = await ivr(['failed'], { QUEUE_PREFIX: `${t.prefix}-other` });
    expect(other.code, other.stderr).toBe(0);
    expect(other.stdout).toContain(`Prefix ${t.prefix}-other`);
    expect(other.stdout).toContain('Failed jobs: 0');
  }, 60_000);

  it('replay sends to 127.0.0.1:RECEIVER_PORT when --url is not given', async () => {
    const seen: Array<{ url: string; key: string | undefined; body: string }> = [];
    const server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', key: req.headers['idempotency-key'] as string | undefined, body });
        res.writeHead(202, { 'content-type': 'application/json' });
        res.end('{"status":"accepted"}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const dir = mkdtempSync(join(tmpdir(), 'ivr-cli-'));
    const file = join(dir, 'rec.ndjson');
    const lines = [1, 2].map((i) => JSON.stringify({ receivedAt: new Date().toISOString(), idempotencyKey: `rk-${i}`, headers: {}, body: { conversationId: `rc-${i}`, participantId: 'p', dtmf: '1' } }));
    writeFileSync(file, lines.join('\n') + '\n');
    try {
      const r = await ivr(['replay', file], { RECEIVER_PORT: String(port) });
      expect(r.code, r.stderr + r.stdout).toBe(0);
      expect(r.stdout).toContain(`http://127.0.0.1:${port}`);
      expect(seen.map((s) => s.url)).toEqual(['/webhook/genesys-dtmf', '/webhook/genesys-dtmf']);
      expect(seen.map((s) => JSON.parse(s.body).conversationId).sort()).toEqual(['rc-1', 'rc-2']);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  }, 60_000);
});
