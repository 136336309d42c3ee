import { TEXT_MUTED, scaleColour, textColourOn } from './heatmap-colour';
import type { WaitView } from './store';

/** Estimated wait colours: light yellow (short) to dark red (long), its own scale so it never reads as a count. */
const WAIT_COLORSCALE: ReadonlyArray<readonly [number, string]> = [
  [0, '#fff7bc'],
  [0.33, '#fec44f'],
  [0.66, '#ec7014'],
  [1, '#7f2704'],
];
/** Cells with decisions but no estimated-wait figure: grey, labelled "no figure" (never drawn as a wait of 0). */
const NO_FIGURE = '#e3e6eb';

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** One cell in words (hover, table, CSV): the mean and how many decisions it covers, or why there is none. */
export function waitCellText(w: WaitView, i: number, j: number): string {
  const n = w.decisions[i]?.[j] ?? 0;
  if (n === 0) return '';
  const mean = w.meanS[i]?.[j] ?? null;
  const byWait = w.routedByWait[i]?.[j] ?? 0;
  if (mean === null) return `no figure (${plural(n, 'decision')})`;
  const rule = byWait ? `; ${byWait} sent to voicemail by maxEstimatedWaitS` : '';
  return `${mean} s mean over ${w.withFigure[i]?.[j] ?? 0} of ${plural(n, 'decision')}${rule}`;
}

/**
 * The Plotly traces of the estimated-wait view: DTMF rows × hour columns, colour = mean estimated wait (s). Two layers:
 * grey "no figure" cells under the wait cells, so a decision without a figure is shown as such, not as 0.
 */
export function waitFigure(w: WaitView) {
  const max = w.meanS.flat().reduce<number>((m, v) => (v === null ? m : Math.max(m, v)), 0);
  const zmax = Math.max(1, max);
  const hover = w.rows.map((_, i) => w.cols.map((_, j) => waitCellText(w, i, j)));
  const common = { type: 'heatmap', x: w.cols, y: w.rows.map((r) => (r === '' ? '(none)' : r)), xgap: 2, ygap: 2, customdata: hover, texttemplate: '%{text}', textfont: { size: 11 } };
  const noFigure = {
    ...common,
    name: 'no figure',
    z: w.rows.map((_, i) => w.cols.map((_, j) => ((w.decisions[i]?.[j] ?? 0) > 0 && w.meanS[i]?.[j] === null ? 1 : null))),
    text: w.rows.map((_, i) => w.cols.map((_, j) => ((w.decisions[i]?.[j] ?? 0) > 0 && w.meanS[i]?.[j] === null ? `<span style="color:${TEXT_MUTED}">n/f</span>` : ''))),
    colorscale: [[0, NO_FIGURE], [1, NO_FIGURE]],
    showscale: false,
    hovertemplate: 'DTMF <b>%{y}</b>, %{x}:00 UTC<br>%{customdata}<extra></extra>',
  };
  const wait = {
    ...common,
    name: 'estimated wait',
    z: w.meanS,
    text: w.meanS.map((row, i) =>
      row.map((v, j) => {
        if (v === null) return '';
        const byWait = w.routedByWait[i]?.[j] ?? 0;
        return `<span style="color:${textColourOn(scaleColour(WAIT_COLORSCALE, v / zmax))}"><b>${Math.round(v)}</b>${byWait ? `<br>${byWait} vm` : ''}</span>`;
      }),
    ),
    colorscale: WAIT_COLORSCALE.map(([t, c]) => [t, c]),
    zauto: false,
    zmin: 0,
    zmax,
    hoverongaps: false,
    hovertemplate: 'DTMF <b>%{y}</b>, %{x}:00 UTC<br>%{customdata}<extra></extra>',
    colorbar: { title: { text: 'Mean wait (s)', side: 'top' }, thickness: 12, len: 1, outlinewidth: 0, tickfont: { size: 12 } },
  };
  const height = 40 + 44 + Math.max(2, w.rows.length) * 40;
  const layout = {
    height,
    margin: { l: 64, r: 8, t: 40, b: 44 },
    font: { family: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif', size: 13, color: '#1d2433' },
    xaxis: { type: 'category', title: { text: 'Hour of day (UTC)' }, tickfont: { size: 12 }, ticks: '', showgrid: false, zeroline: false, fixedrange: true },
    yaxis: { type: 'category', autorange: 'reversed', automargin: true, title: { text: 'DTMF pressed', standoff: 8 }, ticks: '', showgrid: false, zeroline: false, fixedrange: true },
    plot_bgcolor: '#ffffff',
    paper_bgcolor: '#ffffff',
    hoverlabel: { bgcolor: '#ffffff', bordercolor: '#aab2bf', font: { size: 13, color: '#1d2433' } },
  };
  return { traces: [noFigure, wait], layout, height, max };
}

/** The view's description line: what a cell shows, and the totals behind it. */
export function waitDescription(w: WaitView): string {
  const t = w.totals;
  if (t.decisions === 0) return 'No decision in range carries estimated-wait fields (stored before this view existed).';
  const figures = t.withFigure
    ? `${t.withFigure} of ${plural(t.decisions, 'decision')} had Genesys' estimated wait (mean ${t.meanS} s); ${t.routedByWait} went to voicemail because it was above maxEstimatedWaitS.`
    : `None of the ${plural(t.decisions, 'decision')} had an estimated wait figure (no target of the routing policy has maxEstimatedWaitS, or Genesys could not say).`;
  return `Mean estimated wait (s) per key and hour; "vm": calls the wait rule sent to voicemail; grey "n/f": decisions without a figure (not 0). ${figures}`;
}
