/**
 * What ships for monitoring (ops/): the Grafana dashboard and the Prometheus alert rules query only metric names
 * that the code registers (or that the Genesys budget work defines), every series the code registers is documented,
 * and, where promtool is installed (Debian's `prometheus` package; scripts/setup.sh installs it in CI), the rules
 * pass `promtool check rules` and `promtool test rules`, the scrape config `promtool check config`, and every
 * dashboard query parses as PromQL.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createMetrics } from '@ivr/metrics';
import { QUEUE_NAMES } from '@ivr/queue-contract';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (p: string) => readFileSync(join(root, p), 'utf8');

/** Series defined by the Genesys budget work (issue 17's budget brief), which this dashboard and these rules may use. */
const BUDGET_METRICS: Record<string, 'counter' | 'histogram'> = {
  ivr_genesys_budget_requests_total: 'counter',
  ivr_genesys_budget_exhausted_total: 'counter',
  ivr_write_lag_seconds: 'histogram',
  ivr_writes_skipped_total: 'counter',
  ivr_writes_expired_total: 'counter',
};

/** Every series the code can register: a metrics object with every part wired, as the receiver, workers and dashboard do. */
async function registeredMetrics(): Promise<Map<string, string>> {
  const m = createMetrics(undefined, { defaultMetrics: false });
  const worker = (name: string) => Object.assign(new EventEmitter(), { name }) as unknown as Worker;
  m.watchHttp();
  m.observeWebhook('duplicate');
  m.watchQueues([]);
  m.watchHeld(async () => ({ count: 0, oldestDueAt: null }));
  for (const q of Object.values(QUEUE_NAMES)) m.watchWorker(worker(q));
  m.observeGenesys('attributes', 429, 0.1);
  m.observePause(QUEUE_NAMES.writes, 1000);
  m.watchOccupancy(() => ({ analyticsCalls: 0, cacheHits: 0, waitedForPeer: 0, failOpen: 0 }));
  m.watchBatcher(() => ({ batches: 0, docs: 0, written: 0, duplicates: 0, failed: 0, lastBatchSize: 0 }));
  m.observeBatch(1);
  return new Map((await m.registry.getMetricsAsJSON()).map((x) => [x.name, String(x.type)]));
}

/** Names a query may use: counters and gauges as named, histograms as _bucket, _sum, _count. */
function queryable(metrics: Map<string, string>): Set<string> {
  const out = new Set<string>();
  for (const [name, type] of metrics) {
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) out.add(name + s);
    else out.add(name);
  }
  return out;
}

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan', 'Inf', 'NaN']);

/** Metric names in a PromQL expression: identifiers that are not functions, keywords or label names. */
export function metricNames(expr: string): string[] {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // label values
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // range selectors
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' '); // grouping label lists
  return [...s.matchAll(/(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)].filter((m) => !m[2] && !KEYWORDS.has(m[1]!)).map((m) => m[1]!);
}

type Panel = { title?: string; type: string; targets?: Array<{ expr: string }>; panels?: Panel[] };
const dashboard = JSON.parse(read('ops/grafana/ivr.json')) as { uid: string; title: string; panels: Panel[] };
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const dashboardExprs = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr })));
const alerts = parse(read('ops/prometheus/alerts.yml')) as { groups: Array<{ name: string; rules: Array<{ alert: string; expr: string }> }> };
const alertExprs = alerts.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })));

describe('ops/: Grafana dashboard and Prometheus alert rules', () => {
  it('the name extraction finds metrics and skips functions, labels and keywords', () => {
    expect(metricNames('histogram_quantile(0.99, sum by (le, endpoint) (rate(a_bucket{x="y z", b=~"c|d"}[5m]))) > 2 and on (q) b_total offset 5m')).toEqual(['a_bucket', 'b_total']);
    expect(metricNames('sum(rate(x_total[5m])) / sum(rate(y_total[5m])) > 0.05')).toEqual(['x_total', 'y_total']);
  });

  it('queries only metric names the code registers (or the budget series)', async () => {
    const allowed = queryable(new Map([...(await registeredMetrics()), ...Object.entries(BUDGET_METRICS)]));
    expect(dashboardExprs.length).toBeGreaterThan(20);
    expect(alertExprs.length).toBeGreaterThanOrEqual(5);
    const unknown = [...dashboardExprs, ...alertExprs].flatMap(({ where, expr }) => metricNames(expr).filter((n) => !allowed.has(n)).map((n) => `${where}: ${n}`));
    expect(unknown).toEqual([]);
  });

  it('covers what issue 17 asks to see and to be alerted on', () => {
    const used = new Set([...dashboardExprs].flatMap((e) => metricNames(e.expr)));
    for (const m of ['ivr_decisions_total', 'http_request_duration_seconds_bucket', 'ivr_decision_latency_seconds_bucket', 'ivr_genesys_requests_total', 'ivr_jobs_total', 'ivr_queue_jobs', 'ivr_queue_oldest_job_age_seconds', 'ivr_queue_pauses_total', 'ivr_queue_paused', 'ivr_genesys_budget_requests_total', 'ivr_write_lag_seconds_bucket']) {
      expect(used.has(m), `dashboard shows ${m}`).toBe(true);
    }
    const rules = Object.fromEntries(alertExprs.map((a) => [a.where, metricNames(a.expr)]));
    expect(rules['alert IvrGenesysWritesFailing']).toContain('ivr_jobs_total');
    expect(rules['alert IvrGenesysRateLimited']).toContain('ivr_queue_pauses_total');
    expect(rules['alert IvrDecisionBacklog']).toContain('ivr_queue_oldest_job_age_seconds');
    expect(rules['alert IvrHeldEventsNotSwept']).toContain('ivr_held_events_overdue_seconds');
    expect(rules['alert IvrFailOpenRate']).toContain('ivr_decisions_total');
    expect(rules['alert IvrDecisionLatencyHigh']).toContain('ivr_decision_latency_seconds_bucket');
    expect(dashboard.uid).toBe('ivr-orchestrator');
  });

  it('every series the code registers is documented in docs/operations.md', async () => {
    const doc = read('docs/operations.md');
    const missing = [...(await registeredMetrics()).keys()].filter((n) => !doc.includes(`\`${n}\``));
    expect(missing).toEqual([]);
  });

  const promtool = spawnSync('promtool', ['--version']).status === 0;
  it.skipIf(!promtool)('promtool: rules check and unit tests pass, the scrape config is valid, every dashboard query parses', () => {
    const run = (...args: string[]) => execFileSync('promtool', args, { cwd: join(root, 'ops/prometheus'), encoding: 'utf8', stdio: 'pipe' });
    expect(run('check', 'rules', 'alerts.yml')).toMatch(/SUCCESS: 7 rules found/);
    expect(run('test', 'rules', 'alerts.test.yml')).toMatch(/SUCCESS/);
    expect(run('check', 'config', 'prometheus.yml')).toMatch(/is valid prometheus config/);
    // Each dashboard query as a recording rule: `promtool check rules` parses it as PromQL.
    const dir = mkdtempSync(join(tmpdir(), 'ivr-dash-'));
    const rules = { groups: [{ name: 'dashboard', rules: dashboardExprs.map((e, i) => ({ record: `ivr:dashboard_query:${i}`, expr: e.expr })) }] };
    writeFileSync(join(dir, 'dashboard-queries.yml'), JSON.stringify(rules));
    expect(run('check', 'rules', join(dir, 'dashboard-queries.yml'))).toMatch(new RegExp(`SUCCESS: ${dashboardExprs.length} rules found`));
  });
});
