/**
 * A/B of two trees for an in-call lever: `pnpm exec tsx bench/ab-in-call.ts <treeA> <treeB> [rounds]` runs the
 * bench's pipeline (simulator, one worker process, receiver with INCALL_DECIDE on, a private Redis each run) from two
 * copies of the repository (e.g. a lever's commit and its parent, each exported with `git archive` over a copy with
 * node_modules), in alternating runs (A, B, A, B, ...), each at a fixed rate of `Prefer: wait=2` calls with unique
 * conversations (30 connections) after a warm-up, and prints each run's p50 / p99, answers decided and the cores
 * used, then the medians over the runs and B ÷ A.
 * RATE (calls/s, default 50), SECS (default 10), REDIS_DELAY_MS (default 0): a proxy holding every chunk that long
 * in each direction between the pipeline and Redis (bench/lib/delay-proxy.ts), for a Redis across a network.
 * A_ENV / B_ENV: `NAME=value,NAME=value` added to that side's environment (an environment lever: give both sides
 * the same tree).
 * PROFILE_DIR: write each run's receiver CPU profile under it (`receiver-A`, `receiver-B`; with the same tree on both
 * sides, both go to `receiver-A`).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cpuShare } from './lib/cpu';
import { delayProxy, type DelayProxy } from './lib/delay-proxy';
import { fixedRate } from './lib/fixed-rate';
import { percentile } from './lib/load';
import { startPipeline, type Pipeline } from './lib/pipeline';
import { startPrivateRedis } from './lib/redis-server';
import { webhook } from './harness';

const [a, b, roundsArg] = process.argv.slice(2);
if (!a || !b) {
  console.error('usage: tsx bench/ab-in-call.ts <treeA> <treeB> [rounds]   (env RATE, SECS, REDIS_DELAY_MS, A_ENV, B_ENV, PROFILE_DIR)');
  process.exit(64);
}
for (const tree of [a, b]) {
  if (!existsSync(join(tree, 'apps/receiver/src/main.ts')) || !existsSync(join(tree, 'node_modules'))) {
    console.error(`${tree}: not a copy of this repository with its node_modules (no apps/receiver/src/main.ts or node_modules)`);
    process.exit(64);
  }
}
const rounds = Number(roundsArg ?? 3);
const rate = Number(process.env.RATE ?? 50);
const seconds = Number(process.env.SECS ?? 10);
const delayMs = Number(process.env.REDIS_DELAY_MS ?? 0);

interface Run {
  p50: number;
  p99: number;
  decided: number;
  calls: number;
  cores: Record<string, number>;
  /** Median of each Server-Timing stage over the run's answers that carried it (ms). */
  stages: Record<string, number>;
}

/** `NAME=value,NAME=value` as an environment. */
const envOf = (spec: string | undefined): Record<string, string> =>
  Object.fromEntries(
    (spec ?? '')
      .split(/,(?=[A-Za-z_][A-Za-z0-9_]*=)/) // a value may hold commas: WORKER_ROLES=apply,report
      .filter(Boolean)
      .map((kv) => {
        const at = kv.indexOf('=');
        if (at <= 0) throw new Error(`A_ENV / B_ENV: "${kv}" is not NAME=value`);
        return [kv.slice(0, at), kv.slice(at + 1)];
      }),
  );
let sideEnv: Array<Record<string, string>> = [];
try {
  sideEnv = [envOf(process.env.A_ENV), envOf(process.env.B_ENV)];
} catch (err) {
  console.error((err as Error).message);
  process.exit(64);
}

async function once(root: string, tag: string, extraEnv: Record<string, string>): Promise<Run> {
  const redis = await startPrivateRedis();
  let proxy: DelayProxy | undefined;
  let pipe: Pipeline | undefined;
  try {
    proxy = delayMs > 0 ? await delayProxy(redis.url, delayMs) : undefined;
    // PROFILE_DIR: each run's receiver CPU profile, under receiver-A / receiver-B.
    const receiverProfileDir = process.env.PROFILE_DIR ? join(process.env.PROFILE_DIR, `receiver-${root === a ? 'A' : 'B'}`) : undefined;
    pipe = await startPipeline(proxy ? { ...redis, url: proxy.url } : redis, { workers: 1, concurrency: 50, logLevel: 'info', procs: 1, root, extraEnv, ...(receiverProfileDir ? { receiverProfileDir } : {}) });
    const calls = rate * seconds;
    await pipe.createCalls(tag, calls + 200);
    const body = webhook(tag);
    const common = { url: `${pipe.recvUrl}/webhook/genesys-dtmf`, connections: 30, headers: { prefer: 'wait=2' }, body };
    await fixedRate({ ...common, rate: 100, seconds: 2 }); // warm-up: JIT, connections, the occupancy cache
    const { result, cores } = await cpuShare({ receiver: pipe.receiver.proc.pid, worker: pipe.workers[0]!.proc.pid, redis: redis.pid }, () =>
      fixedRate({ ...common, rate, seconds, from: 200 }),
    );
    const ms = result.filter((r) => r.status >= 200 && r.status < 300).map((r) => r.ms).sort((x, y) => x - y);
    const names = [...new Set(result.flatMap((r) => Object.keys(r.timing)))];
    const stages = Object.fromEntries(names.map((n) => [n, percentile(result.flatMap((r) => (r.timing[n] === undefined ? [] : [r.timing[n]])).sort((x, y) => x - y), 50)]));
    return { p50: percentile(ms, 50), p99: percentile(ms, 99), decided: result.filter((r) => r.answer === 'decided').length, calls: result.length, cores, stages };
  } finally {
    // Whatever started is stopped, also when the pipeline failed to start (no server left behind).
    await pipe?.stop();
    await proxy?.close();
    await redis.stop();
  }
}

const runs: Run[][] = [[], []];
const fmt = (r: Run) =>
  `p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(1)} ms, decided ${r.decided}/${r.calls}, cores ${Object.entries(r.cores).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(' ')}, Server-Timing p50 ${Object.entries(r.stages).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(' ')}`;
console.log(`in-call A/B: ${rate} calls/s for ${seconds} s, ${rounds} runs each, Redis ${delayMs > 0 ? `behind ${delayMs} ms each way` : 'direct'}${process.env.A_ENV ? `, A with ${process.env.A_ENV}` : ''}${process.env.B_ENV ? `, B with ${process.env.B_ENV}` : ''}`);
for (let r = 0; r < rounds; r++) {
  for (const [i, tree] of [a, b].entries()) {
    const run = await once(tree, `ab${i}r${r}t${Date.now()}`, sideEnv[i]!);
    runs[i]!.push(run);
    console.log(`run ${r + 1} ${i === 0 ? 'A' : 'B'}: ${fmt(run)}`);
  }
}
const median = (xs: number[]) => percentile([...xs].sort((x, y) => x - y), 50);
const summary = (rs: Run[]) => ({
  p50: median(rs.map((x) => x.p50)),
  p99: median(rs.map((x) => x.p99)),
  receiver: median(rs.map((x) => x.cores['receiver'] ?? NaN)),
  stages: Object.fromEntries([...new Set(rs.flatMap((x) => Object.keys(x.stages)))].map((n) => [n, median(rs.map((x) => x.stages[n] ?? NaN))])),
});
const [sa, sb] = [summary(runs[0]!), summary(runs[1]!)];
const stagesOf = (s: ReturnType<typeof summary>) => Object.entries(s.stages).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ');
console.log(`A ${a}: median p50 ${sa.p50.toFixed(2)} ms, p99 ${sa.p99.toFixed(1)} ms, receiver ${sa.receiver.toFixed(2)} cores; Server-Timing medians (ms): ${stagesOf(sa)}`);
console.log(`B ${b}: median p50 ${sb.p50.toFixed(2)} ms, p99 ${sb.p99.toFixed(1)} ms, receiver ${sb.receiver.toFixed(2)} cores; Server-Timing medians (ms): ${stagesOf(sb)}`);
console.log(`B ÷ A: p50 ${(sb.p50 / sa.p50).toFixed(3)}, p99 ${(sb.p99 / sa.p99).toFixed(3)}, receiver CPU ${(sb.receiver / sa.receiver).toFixed(3)}; Server-Timing ${Object.keys(sa.stages).filter((k) => k in sb.stages).map((k) => `${k} ${((sb.stages[k] ?? NaN) / (sa.stages[k] ?? NaN)).toFixed(3)}`).join(', ')}`);
const undecided = runs.flat().filter((x) => x.decided !== x.calls).length;
if (undecided > 0) console.log(`WARNING: ${undecided} run(s) had calls not answered decided`);
process.exit(0);
