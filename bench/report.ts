/** The bench results as targets and a plain-text (and Markdown) table. */
import type { BenchProfile, Cores, IngestFigures, IngestSide, MemoryFigures } from './harness';
import type { E2eFigures } from './e2e';
import type { InCallFigures } from './in-call';
import type { ScaleOutFigures } from './scale-out';

export interface BenchResults {
  profile: BenchProfile;
  machine: { nproc: number; cpu: string; node: string; redis: string; platform: string };
  startedAt: string;
  seconds: number;
  ingest: IngestFigures;
  e2e: E2eFigures;
  memory: MemoryFigures;
  inCall?: InCallFigures | undefined;
  scaleOut?: ScaleOutFigures | undefined;
  targets: Array<{ name: string; value: number; target: string; met: boolean }>;
}

const nanSide = (): IngestSide => ({ okPerSec: NaN, p50: NaN, p99: NaN, cores: {}, cpuUsPerReq: {}, statuses: {} });
/** Figures of a measure that was not run (`--only`). */
export const notMeasured = {
  ingest: (): IngestFigures => ({ echo: nanSide(), naive: nanSide(), receiver: nanSide(), ratio: NaN, naiveRatio: NaN, p50Ratio: NaN, p99Ratio: NaN, profiles: [] }),
  e2e: (): E2eFigures => ({ chain: { perSec: NaN, jobs: 0, seconds: 0, redisCommandsPerChain: NaN }, pipeline: { perSec: NaN, decisions: 0, seconds: 0, latencyP50: NaN, latencyP99: NaN }, ratio: NaN, analyticsCallsPerDecision: NaN, genesysRequestsPerDecision: { async: NaN, sync: NaN, syncDecisions: 0 }, storeRequestsPerDecision: NaN, redisCommandsPerDecision: NaN, redisTopCommands: {}, queues: 3, profiles: [] }),
  memory: (): MemoryFigures => ({ keys: 0, bytesPerKey: NaN, mbPerMillion: NaN }),
};


export function targets(r: Pick<BenchResults, 'ingest' | 'e2e' | 'memory'>): BenchResults['targets'] {
  return [
    { name: 'ingest ÷ naive receiver', value: r.ingest.naiveRatio, target: '≥ 1.0', met: r.ingest.naiveRatio >= 1 },
    { name: 'ingest ÷ echo', value: r.ingest.ratio, target: '≥ 0.5', met: r.ingest.ratio >= 0.5 },
    { name: 'ack p99 ÷ echo p99 @ fixed rate', value: r.ingest.p99Ratio, target: '≤ 2', met: r.ingest.p99Ratio <= 2 },
    { name: 'end to end ÷ bare chain', value: r.e2e.ratio, target: '≥ 0.5', met: r.e2e.ratio >= 0.5 },
    { name: 'analytics calls / decision', value: r.e2e.analyticsCallsPerDecision, target: '≤ 0.01', met: r.e2e.analyticsCallsPerDecision <= 0.01 },
    { name: 'Genesys requests / decision, sync path', value: r.e2e.genesysRequestsPerDecision.sync, target: '≤ 0.05 (no write)', met: r.e2e.genesysRequestsPerDecision.sync <= 0.05 },
    { name: 'store requests / decision', value: r.e2e.storeRequestsPerDecision, target: '≤ 0.01', met: r.e2e.storeRequestsPerDecision <= 0.01 },
    { name: 'MB per 1M idempotency keys', value: r.memory.mbPerMillion, target: '≤ 150', met: r.memory.mbPerMillion <= 150 },
  ];
}

const f = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : String(v));
const cores = (c: Cores | undefined, d = 2) =>
  Object.entries(c ?? {})
    .filter(([, v]) => Number.isFinite(v))
    .map(([k, v]) => `${k === 'load generator' ? 'load' : k} ${f(v, d)}`)
    .join(', ');

/** The results as a plain-text (and Markdown) table. */
export function table(r: BenchResults, extra: Array<[string, string, string, string, string]> = []): string {
  const i = r.ingest;
  const e = r.e2e;
  const rows: Array<[string, string, string, string, string]> = [
    ['ingest (2xx/s, ' + r.profile.connections + ' conns)', f(i.receiver.okPerSec, 0), f(i.echo.okPerSec, 0) + ' (echo)', f(i.ratio), '≥ 0.5'],
    ['ingest vs naive receiver (2xx/s)', f(i.receiver.okPerSec, 0), f(i.naive?.okPerSec ?? NaN, 0) + ' (naive)', f(i.naiveRatio), '≥ 1.0'],
    [`ack p50 @ ${r.profile.latencyRate}/s (ms)`, f(i.receiver.p50), f(i.echo.p50) + ' (echo)', f(i.p50Ratio), ''],
    [`ack p99 @ ${r.profile.latencyRate}/s (ms)`, f(i.receiver.p99), f(i.echo.p99) + ' (echo)', f(i.p99Ratio), '≤ 2'],
    ['CPU during ingest (cores)', cores(i.receiver.cores), cores(i.echo.cores) + ' (echo)', '', ''],
    ['CPU per request, naive (µs)', cores(i.naive?.cpuUsPerReq, 0), '', '', ''],
    ['CPU per request (µs)', cores(i.receiver.cpuUsPerReq, 0), cores(i.echo.cpuUsPerReq, 0) + ' (echo)', f((i.receiver.cpuUsPerReq['server'] ?? NaN) / (i.echo.cpuUsPerReq['server'] ?? NaN)), ''],
    ['end to end (decisions/s)', f(e.pipeline.perSec, 0), f(e.chain.perSec, 0) + ' (bare chain)', f(e.ratio), '≥ 0.5'],
    ['decision latency p50 / p99 (ms)', `${f(e.pipeline.latencyP50, 0)} / ${f(e.pipeline.latencyP99, 0)}`, '', '', ''],
    [`analytics calls / decision (${e.queues} queues)`, f(e.analyticsCallsPerDecision, 4), '', '', '≤ 0.01'],
    ['Genesys requests / decision, async (no Prefer)', f(e.genesysRequestsPerDecision?.async ?? NaN, 4), '', '', ''],
    [`Genesys requests / decision, sync (Prefer: wait, ${e.genesysRequestsPerDecision?.syncDecisions ?? 0} calls)`, f(e.genesysRequestsPerDecision?.sync ?? NaN, 4), '', '', ''],
    ['store requests / decision', f(e.storeRequestsPerDecision, 4), '', '', '≤ 0.01'],
    ['Redis commands / decision (all)', f(e.redisCommandsPerDecision, 1), f(e.chain.redisCommandsPerChain, 1) + ' (per chain)', '', ''],
    [`Redis MB per 1M idempotency keys`, f(r.memory.mbPerMillion, 1), `${f(r.memory.bytesPerKey, 0)} B/key`, '', '≤ 150'],
    ...extra,
  ];
  const head: [string, string, string, string, string] = ['measure', 'ours', 'baseline', 'ratio', 'target'];
  const all = [head, ...rows];
  const w = head.map((_, c) => Math.max(...all.map((row) => row[c]!.length)));
  const line = (row: string[]) => `| ${row.map((cell, c) => cell.padEnd(w[c]!)).join(' | ')} |`;
  return [line(head), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
