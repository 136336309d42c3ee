/**
 * CPU per request against the request rate, for the bare Hono echo and for our in-call path (`Prefer: wait=2`,
 * unique conversations), the same load generator, one process each, 30 connections, alternating per rate. It shows
 * what a request costs on this box when requests come one at a time (each wakes the processes it touches) rather
 * than in a stream (where one wake-up serves many): the floor under the in-call latency (docs/performance.md).
 *
 *   npx tsx bench/cpu-by-rate.ts            RATES=50,100,300,1000 (calls/s), SECS=5 per rate and side
 */
import { freePort } from '@ivr/testing';
import { cpuShare } from './lib/cpu';
import { fixedRate } from './lib/fixed-rate';
import { percentile } from './lib/load';
import { startPipeline } from './lib/pipeline';
import { runTs } from './lib/procs';
import { startPrivateRedis } from './lib/redis-server';
import { waitForHttp } from '@ivr/testing';
import { webhook } from './harness';

const rates = (process.env.RATES ?? '50,100,300,1000').split(',').map(Number);
const seconds = Number(process.env.SECS ?? 5);
if (rates.some((r) => !(r > 0)) || !(seconds > 0)) {
  console.error('RATES must be positive numbers separated by commas, SECS a positive number');
  process.exit(64);
}

const redis = await startPrivateRedis();
const echoPort = await freePort();
const echo = runTs('echo-cpu', 'bench/servers/echo.ts', { ECHO_PORT: String(echoPort), ECHO_WORKERS: '1' });
let pipe: Awaited<ReturnType<typeof startPipeline>> | undefined;
try {
  await waitForHttp(`http://127.0.0.1:${echoPort}/healthz`, echo);
  pipe = await startPipeline(redis, { workers: 1, concurrency: 50, logLevel: 'info', procs: 1 });
  const run = `cpu${Date.now()}`;
  const total = rates.reduce((n, r) => n + r * seconds, 0) + 200;
  await pipe.createCalls(run, total);
  const body = webhook(run);
  const url = `${pipe.recvUrl}/webhook/genesys-dtmf`;
  // Warm-up: fills the occupancy cache (the first call of a queue is a worker's) and the JIT.
  await fixedRate({ url, rate: 100, seconds: 1, connections: 30, headers: { prefer: 'wait=2' }, body });
  let from = 100;
  console.log('rate/s | echo µs CPU/request · p50 ms | in-call receiver µs CPU/request · p50 ms · decided | receiver ÷ echo CPU');
  for (const rate of rates) {
    const e = await cpuShare({ echo: echo.proc.pid }, () => fixedRate({ url: `http://127.0.0.1:${echoPort}/webhook/genesys-dtmf`, rate, seconds, connections: 30, body, from }));
    const o = await cpuShare({ receiver: pipe.receiver.proc.pid }, () => fixedRate({ url, rate, seconds, connections: 30, headers: { prefer: 'wait=2' }, body, from }));
    from += rate * seconds;
    const p50 = (r: typeof e.result) => percentile(r.map((x) => x.ms).sort((x, y) => x - y), 50);
    const perReq = (cores: number) => (cores * 1e6) / rate;
    const [ec, oc] = [perReq(e.cores.echo!), perReq(o.cores.receiver!)];
    const decided = o.result.filter((r) => r.answer === 'decided').length;
    console.log(`${rate} | ${ec.toFixed(0)} · ${p50(e.result).toFixed(2)} | ${oc.toFixed(0)} · ${p50(o.result).toFixed(2)} · ${decided}/${o.result.length} | ${(oc / ec).toFixed(2)}`);
  }
} finally {
  await pipe?.stop();
  await echo.stop();
  await redis.stop();
}
