/**
 * A/B of two receivers for measuring one lever: `pnpm exec tsx bench/ab.ts <treeA> <treeB> [rounds]` runs
 * apps/receiver/src/main.ts from two copies of the repository (e.g. a lever's commit and its parent, each
 * exported with `git archive` over a copy with node_modules) side by side on one private Redis, in alternating
 * throughput rounds (A, B, A, B, ...; 50 connections), and prints 2xx/s and CPU µs per request of each and B ÷ A.
 * ACK_ROUNDS=n adds n alternating rounds at a fixed 1,000/s (10 connections) and prints each side's median p50 / p99.
 */
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cpuShare } from './lib/cpu';
import { load } from './lib/load';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '@ivr/testing';
import { LOG_DIR } from './lib/procs';
import { startPrivateRedis } from './lib/redis-server';
import { webhook } from './harness';

const [a, b, roundsArg] = process.argv.slice(2);
if (!a || !b) {
  console.error('usage: tsx bench/ab.ts <treeA> <treeB> [rounds]');
  process.exit(64);
}
const rounds = Number(roundsArg ?? 6);
const redis = await startPrivateRedis();
const sides = await Promise.all(
  [a, b].map(async (tree, i) => {
    const port = await freePort();
    const fd = openSync(join(LOG_DIR, `ab-${i}.log`), 'a');
    const env = { ...process.env, REDIS_URL: redis.url, QUEUE_PREFIX: `ab${i}`, RECEIVER_PORT: String(port), RECEIVER_HOST: '127.0.0.1', LOG_LEVEL: 'info', WEBHOOK_SECRET: '', WEBHOOK_TOKEN: '' };
    const proc = spawn(process.execPath, ['--import', 'tsx', resolve(tree, 'apps/receiver/src/main.ts')], { cwd: resolve(tree), env, stdio: ['ignore', fd, fd] });
    return { tree, url: `http://127.0.0.1:${port}`, proc, ok: 0, s: 0, cpu: 0, redisCpu: 0 };
  }),
);
try {
  for (const s of sides) {
    for (let t = 0; ; t++) {
      if (await fetch(`${s.url}/readyz`).then((r) => r.ok, () => false)) break;
      if (t > 200) throw new Error(`${s.tree}: receiver not ready (log in ${LOG_DIR})`);
      await sleep(100);
    }
    await load({ url: `${s.url}/webhook/genesys-dtmf`, connections: 50, duration: 2, body: webhook(`warm${s.proc.pid}`) });
  }
  for (let r = 0; r < rounds; r++) {
    for (const [i, s] of sides.entries()) {
      const { result, cores } = await cpuShare({ server: s.proc.pid, redis: redis.pid }, () => load({ url: `${s.url}/webhook/genesys-dtmf`, connections: 50, duration: 3, body: webhook(`ab${i}r${r}`) }));
      s.ok += result.okPerSec * result.seconds;
      s.s += result.seconds;
      s.cpu += (cores['server'] ?? NaN) * result.seconds;
      s.redisCpu += (cores['redis'] ?? NaN) * result.seconds;
    }
  }
  // ACK_ROUNDS=n: then n alternating rounds at a fixed 1,000 requests/s over 10 connections (the bench's ack measure),
  // the median p50 / p99 of each side.
  const ackRounds = Number(process.env.ACK_ROUNDS ?? 0);
  const acks: Array<Array<{ p50: number; p99: number }>> = [[], []];
  for (let r = 0; r < ackRounds; r++) {
    for (const [i, s] of sides.entries()) {
      const res = await load({ url: `${s.url}/webhook/genesys-dtmf`, connections: 10, duration: 5, overallRate: 1000, body: webhook(`ack${i}r${r}`) });
      acks[i]!.push({ p50: res.p50, p99: res.p99 });
    }
  }
  const median = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)]!;
  const fig = (s: (typeof sides)[number]) => ({ perSec: s.ok / s.s, cpuUs: (s.cpu * 1e6) / s.ok, redisUs: (s.redisCpu * 1e6) / s.ok });
  const [fa, fb] = [fig(sides[0]!), fig(sides[1]!)];
  console.log(`A ${a}: ${fa.perSec.toFixed(0)} 2xx/s, server ${fa.cpuUs.toFixed(0)} µs/req, redis ${fa.redisUs.toFixed(0)} µs/req`);
  console.log(`B ${b}: ${fb.perSec.toFixed(0)} 2xx/s, server ${fb.cpuUs.toFixed(0)} µs/req, redis ${fb.redisUs.toFixed(0)} µs/req`);
  console.log(`B ÷ A: throughput ${(fb.perSec / fa.perSec).toFixed(3)}, server CPU per request ${(fb.cpuUs / fa.cpuUs).toFixed(3)}`);
  if (ackRounds) {
    const [ma, mb] = acks.map((x) => ({ p50: median(x.map((y) => y.p50)), p99: median(x.map((y) => y.p99)) }));
    console.log(`ack @ 1,000/s, medians of ${ackRounds} rounds: A p50 ${ma!.p50.toFixed(2)} / p99 ${ma!.p99.toFixed(2)} ms; B p50 ${mb!.p50.toFixed(2)} / p99 ${mb!.p99.toFixed(2)} ms; B ÷ A ${(mb!.p50 / ma!.p50).toFixed(3)} / ${(mb!.p99 / ma!.p99).toFixed(3)}`);
  }
} finally {
  for (const s of sides) s.proc.kill('SIGTERM');
  await sleep(500);
  await redis.stop();
}
process.exit(0);
