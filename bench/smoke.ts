/**
 * `pnpm bench:smoke` (CI): the whole bench harness at tiny load, a few seconds. Exits 0 when every measure ran
 * and produced a finite figure, non-zero when the harness is broken. No timing assertions: the figures of a
 * tiny run on a CI box mean nothing; only that they can be measured.
 */
import { SMOKE, benchIngest, benchMemory } from './harness';
import { benchEndToEnd } from './e2e';
import { table, targets, type BenchResults } from './report';
import { benchInCall, formatStages, inCallRows, inCallTargets } from './in-call';
import { benchScaleOut, scaleOutRows } from './scale-out';
import { sharedPipeline } from './lib/pipeline';
import { startPrivateRedis } from './lib/redis-server';
import { cpus } from 'node:os';

const t0 = Date.now();
const log = (s: string) => console.log(`[smoke ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${s}`);
const redis = await startPrivateRedis().catch((e: Error) => {
  console.error(`bench:smoke failed: ${e.message}`);
  process.exit(1);
});
let code = 0;
try {
  const ingest = await benchIngest(redis, SMOKE, log);
  const e2e = await benchEndToEnd(redis, SMOKE, log);
  const pipe = await sharedPipeline(redis, SMOKE);
  const inCall = await benchInCall(redis, SMOKE, log, pipe);
  const scaleOut = await benchScaleOut(redis, SMOKE, log, pipe);
  await pipe.stop();
  const memory = await benchMemory(redis, SMOKE, log);
  const results: BenchResults = {
    profile: SMOKE,
    machine: { nproc: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, redis: redis.version, platform: process.platform },
    startedAt: new Date(t0).toISOString(),
    seconds: (Date.now() - t0) / 1000,
    ingest,
    e2e,
    memory,
    inCall,
    scaleOut,
    targets: [...targets({ ingest, e2e, memory }), ...inCallTargets(inCall)],
  };
  console.log(table(results, [...inCallRows(inCall), ...scaleOutRows(scaleOut)]));
  console.log(formatStages(inCall));
  const broken = results.targets.filter((t) => !Number.isFinite(t.value)).map((t) => t.name);
  if (ingest.echo.okPerSec <= 0 || ingest.naive.okPerSec <= 0 || ingest.receiver.okPerSec <= 0) broken.push('ingest throughput is zero');
  if (inCall.ours.decided === 0) broken.push('no in-call answer was decided');
  const onPath = inCall.stages.filter((s) => s.n > 0);
  if (!onPath.length || !onPath.every((s) => Number.isFinite(s.p50))) broken.push('in-call per-stage breakdown');
  if (scaleOut.steps.length !== SMOKE.scaleProcs.length || !scaleOut.steps.every((s) => s.pipelinePerSec > 0)) broken.push('scale-out');
  if (e2e.pipeline.decisions !== SMOKE.e2eDecisions) broken.push('end to end did not decide every call');
  if (broken.length) throw new Error(`harness produced no figure for: ${broken.join(', ')}`);
  console.log(`bench harness OK in ${((Date.now() - t0) / 1000).toFixed(1)} s (figures at this load are not meaningful)`);
} catch (e) {
  console.error(`bench:smoke failed: ${(e as Error).message}`);
  code = 1;
} finally {
  await redis.stop();
}
process.exit(code);
