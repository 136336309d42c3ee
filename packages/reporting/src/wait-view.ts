import { compareDtmf, HOURS } from './matrix';
import type { WaitView } from './store';

/** One cell's sums: decisions, those with a figure, the figures' sum (s), those routed by the wait rule. */
export interface WaitCell {
  decisions: number;
  withFigure: number;
  sumS: number;
  routedByWait: number;
}

const round1 = (v: number): number => Math.round(v * 10) / 10;

/** DTMF × hour cells, filled by the stores (from counters, entries or aggregation buckets) and turned into a WaitView. */
export class WaitTally {
  private readonly cells = new Map<string, Map<string, WaitCell>>();

  add(dtmf: string, hour: string, cell: Partial<WaitCell>): void {
    let row = this.cells.get(dtmf);
    if (!row) this.cells.set(dtmf, (row = new Map()));
    const c = row.get(hour) ?? { decisions: 0, withFigure: 0, sumS: 0, routedByWait: 0 };
    c.decisions += cell.decisions ?? 0;
    c.withFigure += cell.withFigure ?? 0;
    c.sumS += cell.sumS ?? 0;
    c.routedByWait += cell.routedByWait ?? 0;
    row.set(hour, c);
  }

  toView(): WaitView {
    const rows = [...this.cells.keys()].filter((d) => [...this.cells.get(d)!.values()].some((c) => c.decisions > 0)).sort(compareDtmf);
    const cols = [...HOURS];
    const grid = <T>(f: (c: WaitCell | undefined) => T): T[][] => rows.map((r) => cols.map((h) => f(this.cells.get(r)?.get(h))));
    const all = rows.flatMap((r) => [...this.cells.get(r)!.values()]);
    const sum = (k: keyof WaitCell) => all.reduce((s, c) => s + c[k], 0);
    const withFigure = sum('withFigure');
    return {
      rows,
      cols,
      decisions: grid((c) => c?.decisions ?? 0),
      withFigure: grid((c) => c?.withFigure ?? 0),
      meanS: grid((c) => (c && c.withFigure > 0 ? round1(c.sumS / c.withFigure) : null)),
      routedByWait: grid((c) => c?.routedByWait ?? 0),
      totals: {
        decisions: sum('decisions'),
        withFigure,
        withoutFigure: sum('decisions') - withFigure,
        routedByWait: sum('routedByWait'),
        meanS: withFigure > 0 ? round1(sum('sumS') / withFigure) : null,
      },
    };
  }
}
