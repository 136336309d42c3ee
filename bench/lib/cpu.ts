import { readdirSync, readFileSync } from 'node:fs';

/** CPU seconds (user + system) used so far by `pid` and its descendants; NaN where /proc is unavailable. */
function cpuSeconds(pid: number): number {
  try {
    const stats = new Map<number, { ppid: number; ticks: number }>();
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const s = readFileSync(`/proc/${d}/stat`, 'utf8');
        const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
        // fields after "pid (comm) ": state ppid ... utime(14) stime(15) -> indexes 11, 12 here
        stats.set(Number(d), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
      } catch {
        // process went away
      }
    }
    let total = 0;
    const walk = (p: number) => {
      total += stats.get(p)?.ticks ?? 0;
      for (const [child, s] of stats) if (s.ppid === p) walk(child);
    };
    walk(pid);
    return total / 100; // USER_HZ
  } catch {
    return Number.NaN;
  }
}

/** CPU used by each named process tree while `fn` runs, as a share of one core (1.0 = one core busy). */
export async function cpuShare<T>(pids: Record<string, number | undefined>, fn: () => Promise<T>): Promise<{ result: T; cores: Record<string, number> }> {
  const before = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, p ? cpuSeconds(p) : Number.NaN]));
  const t0 = performance.now();
  const result = await fn();
  const s = (performance.now() - t0) / 1000;
  const cores = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, p ? (cpuSeconds(p) - before[k]!) / s : Number.NaN]));
  return { result, cores };
}
