/** Clears the rows of the previous run before the suite; prints the table (and writes table.md) after it. */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHAOS_DIR, LOG_DIR, ROWS_FILE, type Row } from './harness';

export function renderTable(rows: Row[]): string {
  const head = ['scenario', 'load', 'fault', 'result', 'figures', 's', 'pass'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) lines.push(`| ${[r.scenario, r.load, r.fault, r.result, r.figures, r.seconds.toFixed(1), r.pass ? 'PASS' : 'FAIL'].map((c) => String(c).replace(/\|/g, '/')).join(' | ')} |`);
  return lines.join('\n');
}

export default function setup() {
  mkdirSync(CHAOS_DIR, { recursive: true });
  rmSync(ROWS_FILE, { force: true });
  rmSync(LOG_DIR, { recursive: true, force: true });
  rmSync(join(CHAOS_DIR, 'heatmaps'), { recursive: true, force: true });
  const t0 = Date.now();
  return () => {
    const rows: Row[] = existsSync(ROWS_FILE)
      ? readFileSync(ROWS_FILE, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row)
      : [];
    rows.sort((a, b) => a.scenario.localeCompare(b.scenario, 'en', { numeric: true }));
    const table = renderTable(rows);
    const text = `Chaos suite, ${new Date().toISOString()}, ${((Date.now() - t0) / 1000).toFixed(0)} s total\n\n${table}\n`;
    writeFileSync(join(CHAOS_DIR, 'table.md'), text);
    console.log(`\n=== chaos results (reports/chaos/table.md; process logs in reports/chaos/logs/) ===\n${text}`);
  };
}
