import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  where: string;
  ms: number;
  pct: number;
}

/** Where a frame lives: `pkg` for node_modules, a repo-relative path for our code, `node:` internals. */
function place(url: string): string {
  if (!url) return '(native/V8)';
  const nm = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(url);
  if (nm) return `${nm[1]}/${nm[2]}`;
  const repo = /\/((?:apps|packages|bench|scripts)\/.*)$/.exec(url);
  if (repo) return repo[1]!;
  return url.replace(/^file:\/\//, '');
}

function group(where: string): string {
  if (where.startsWith('node:')) return 'node internals';
  if (where === '(native/V8)') return '(native, GC, idle)';
  if (/^(apps|packages|bench|scripts)\//.test(where)) return where.split('/').slice(0, 2).join('/');
  return where.split('/')[0]!.startsWith('@') ? where.split('/').slice(0, 2).join('/') : where.split('/')[0]!;
}

/**
 * Self time per function and per package from the .cpuprofile files in `dir`: the main thread of every
 * process (node writes one more file per thread; tsx's loader thread is left out: `.0.` is the main thread).
 * Idle time is left out: percentages are of busy time.
 */
export function summarise(dir: string, top = 20): { totalMs: number; idleMs: number; functions: SelfTime[]; packages: SelfTime[]; files: string[] } {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile') && /\.0\.\d+\.cpuprofile$/.test(f));
  let idle = 0;
  const byFn = new Map<string, { name: string; where: string; us: number }>();
  const byPkg = new Map<string, number>();
  let total = 0;
  for (const file of files) {
    const p = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile;
    const nodes = new Map(p.nodes.map((n) => [n.id, n]));
    p.samples.forEach((id, i) => {
      const dt = p.timeDeltas[i] ?? 0;
      const n = nodes.get(id);
      if (!n) return;
      if (n.callFrame.functionName === '(idle)') {
        idle += dt;
        return;
      }
      total += dt;
      const where = `${place(n.callFrame.url)}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
      const name = n.callFrame.functionName || '(anonymous)';
      const k = `${name}@${where}`;
      const cur = byFn.get(k) ?? { name, where, us: 0 };
      cur.us += dt;
      byFn.set(k, cur);
      const g = group(place(n.callFrame.url));
      byPkg.set(g, (byPkg.get(g) ?? 0) + dt);
    });
  }
  const pct = (us: number) => (total ? (100 * us) / total : 0);
  const functions = [...byFn.values()].sort((a, b) => b.us - a.us).slice(0, top).map((v) => ({ name: v.name, where: v.where, ms: v.us / 1000, pct: pct(v.us) }));
  const packages = [...byPkg.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, us]) => ({ name: k, where: '', ms: us / 1000, pct: pct(us) }));
  return { totalMs: total / 1000, idleMs: idle / 1000, functions, packages, files };
}

export function formatSummary(s: ReturnType<typeof summarise>): string {
  const out = [`CPU profile: ${s.files.length} process(es), ${(s.totalMs / 1000).toFixed(1)} s busy, ${(s.idleMs / 1000).toFixed(1)} s idle; % of busy time`, '', 'self time by package:'];
  for (const p of s.packages) out.push(`  ${p.pct.toFixed(1).padStart(5)}%  ${p.name}`);
  out.push('', 'top functions by self time:');
  for (const f of s.functions) out.push(`  ${f.pct.toFixed(1).padStart(5)}%  ${f.name}  (${f.where})`);
  return out.join('\n');
}
