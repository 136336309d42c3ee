/**
 * `pnpm bench [--procs N] [--cpu-prof] [--only ingest,incall,e2e,scale,memory]`: start a private redis-server and what each
 * measure needs, measure against baselines taken in the same run, print a table and write bench/results.json.
 * See docs/performance.md.
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { FULL, benchIngest, benchMemory } from './harness';
import { benchEndToEnd } from './e2e';
import { notMeasured, table, targets, type BenchResults } from './report';
import { formatSummary, summarise } from './lib/cpuprofile';
import { benchInCall, formatStages, inCallRows, inCallTargets } from './in-call';
import { benchScaleOut, scaleOutRows } from './scale-out';
import { sharedPipeline } from './lib/pipeline';
import { REPO_ROOT as ROOT } from '@ivr/testing';
import { LOG_DIR } from './lib/procs';
import { startPrivateRedis } from './lib/redis-server';

const USAGE = 'usage: pnpm bench [--procs N] [--cpu-prof] [--only ingest,incall,e2e,scale,memory] [--decisions N] [--e2e-timeout S]';
const MEASURES = ['ingest', 'incall', 'e2e', 'scale', 'memory'];
const profile = { ...FULL };
let only = new Set(MEASURES);
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  if (a === '--procs') profile.procs = Number(argv[++i]);
  else if (a === '--cpu-prof') profile.cpuProfile = true;
  else if (a === '--only') only = new Set((argv[++i] ?? '').split(','));
  // A smaller run for a busy box: decisions through end to end and per scale-out step.
  else if (a === '--decisions') profile.e2eDecisions = profile.scaleDecisions = Number(argv[++i]);
  else if (a === '--e2e-timeout') profile.e2eTimeoutS = Number(argv[++i]);
  else if (a === '--help' || a === '-h') {
    console.log(USAGE);
    process.exit(0);
  } else {
    console.error(`unknown argument ${a}\n${USAGE}`);
    process.exit(64);
  }
}
if (!Number.isInteger(profile.procs) || profile.procs < 1 || profile.procs > 64) {
  console.error(`--procs must be an integer 1-64 (got ${profile.procs})\n${USAGE}`);
  process.exit(64);
}
for (const o of only) if (!MEASURES.includes(o)) {
  console.error(`--only takes ${MEASURES.join(', ')} (got ${o})\n${USAGE}`);
  process.exit(64);
}

const t0 = Date.now();
const log = (s: string) => console.log(`[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(3)} s] ${s}`);
const redis = await startPrivateRedis().catch((e: Error) => {
  console.error(`bench failed: ${e.message}`);
  process.exit(1);
});
log(`private redis-server ${redis.version} at ${redis.url}; child logs in ${LOG_DIR}`);
let code = 0;
try {
  // A measure that fails (e.g. times out on a box busy with other work) is reported and the others still run.
  const attempt = async <T>(name: string, fn: () => Promise<T>, fallback: T): Promise<T> => {
    if (!only.has(name)) return fallback;
    try {
      return await fn();
    } catch (e) {
      log(`${name} FAILED: ${(e as Error).message.split('\n')[0]}`);
      code = 1;
      return fallback;
    }
  };
  const ingest = await attempt('ingest', () => benchIngest(redis, profile, log), notMeasured.ingest());
  const e2e = await attempt('e2e', () => benchEndToEnd(redis, profile, log), notMeasured.e2e());
  // The in-call decision and scale-out share one pipeline (simulator, receiver, worker processes): fewer starts.
  const pipe = only.has('incall') || only.has('scale') ? await sharedPipeline(redis, profile) : undefined;
  const inCall = await attempt('incall', () => benchInCall(redis, profile, log, pipe), undefined);
  const scaleOut = await attempt('scale', () => benchScaleOut(redis, profile, log, pipe), undefined);
  await pipe?.stop();
  const memory = await attempt('memory', () => benchMemory(redis, profile, log), notMeasured.memory());
  const results: BenchResults = {
    profile,
    machine: { nproc: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, redis: redis.version, platform: `${process.platform} ${process.arch}` },
    startedAt: new Date(t0).toISOString(),
    seconds: (Date.now() - t0) / 1000,
    ingest,
    e2e,
    memory,
    inCall,
    scaleOut,
    targets: [...targets({ ingest, e2e, memory }), ...inCallTargets(inCall)],
  };
  writeFileSync(join(ROOT, 'bench/results.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log('');
  console.log(`machine: ${results.machine.nproc} cores (${results.machine.cpu}), node ${results.machine.node}, redis ${results.machine.redis}; load generator on the same box`);
  console.log(table(results, [...inCallRows(inCall), ...scaleOutRows(scaleOut)]));
  if (inCall) console.log(`\n${formatStages(inCall)}`);
  console.log('');
  for (const t of results.targets) console.log(`${t.met ? 'met   ' : 'MISSED'}  ${t.name}: ${Number.isFinite(t.value) ? t.value.toFixed(3) : 'not measured'} (target ${t.target})`);
  if (Object.keys(e2e.redisTopCommands).length) console.log(`\nRedis commands per decision, most frequent: ${Object.entries(e2e.redisTopCommands).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  for (const [what, dir] of [...ingest.profiles.map((d) => ['receiver (ingest run)', d]), ...e2e.profiles.map((d) => ['worker process (end to end run)', d])]) {
    console.log(`\n${what}:`);
    console.log(formatSummary(summarise(dir!)));
    console.log(`(.cpuprofile files in ${dir}; open them in Chrome DevTools > Performance)`);
  }
  console.log(`\nwrote bench/results.json in ${results.seconds.toFixed(0)} s`);
} catch (e) {
  console.error(`\nbench failed: ${(e as Error).message}`);
  code = 1;
} finally {
  await redis.stop();
}
process.exit(code);
