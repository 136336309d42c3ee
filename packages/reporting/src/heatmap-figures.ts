import { COLORSCALE, TEXT_MUTED, colorbarTicks, scaleColour, textColourOn } from './heatmap-colour';
import { percent, routeLabel } from './heatmap-format';
import type { CountMatrix, HeatmapData, TimeSeries } from './store';

/** Display label of an agents row: the fail-open row says what it is. */
export const AGENT_ROW_LABELS: Readonly<Record<string, string>> = { unknown: 'unknown (Genesys unavailable)' };

export interface ChartSpec {
  id: string;
  heading: string;
  description: string;
  yTitle: string;
  /** What one row is, in hover text: "calls with DTMF 1". */
  rowNoun: (row: string) => string;
  /** Row label on the axis and in tables (default: the row, "(none)" for ""). */
  rowLabel?: (row: string) => string;
  matrix: CountMatrix;
  rowPx: number;
}

export function specs(data: HeatmapData): ChartSpec[] {
  const dtmfRows = data.dtmfByRoute.rows.length;
  return [
    {
      id: 'heatmap-dtmf',
      heading: 'DTMF pressed × routing decision',
      description: 'Which key callers pressed and where the IVR sent them.',
      yTitle: 'DTMF pressed',
      rowNoun: (r) => `calls with DTMF ${r === '' ? '(none)' : r}`,
      matrix: data.dtmfByRoute,
      rowPx: dtmfRows <= 6 ? 52 : dtmfRows <= 12 ? 36 : 26,
    },
    {
      id: 'heatmap-hour',
      heading: 'Hour of day (UTC) × routing decision',
      description: 'When the decisions were made (hour of the day, UTC).',
      yTitle: 'Hour of day (UTC)',
      rowNoun: (r) => `calls in hour ${r}:00–${r}:59 UTC`,
      matrix: data.hourByRoute,
      rowPx: 24,
    },
    {
      id: 'heatmap-agents',
      heading: 'Available agents × routing decision',
      description: 'How many agents were available when the call was routed.',
      yTitle: 'Available agents',
      rowNoun: (r) => (r === 'unknown' ? 'calls decided without a reading (Genesys unavailable, DEFAULT_ROUTE applied)' : `calls with ${r} agent${r === '1' ? '' : 's'} available`),
      rowLabel: (r) => AGENT_ROW_LABELS[r] ?? r,
      matrix: data.agentsByRoute,
      rowPx: 44,
    },
  ];
}

const MARGIN = { l: 64, r: 8, t: 40, b: 12 };
/** The Plotly trace and layout of one chart, computed here so the page only draws them (and tests can read them). */
export function heatmapFigure(spec: Pick<ChartSpec, 'yTitle' | 'rowNoun' | 'matrix' | 'rowPx' | 'rowLabel'>) {
  const m = spec.matrix;
  const max = m.counts.reduce((a, row) => row.reduce((b, v) => Math.max(b, v), a), 0);
  // A chart with nothing in it still gets a valid range (0..1) so every cell shows the "zero" colour.
  const zmax = Math.max(1, max);
  const rowTotals = m.counts.map((row) => row.reduce((s, v) => s + v, 0));
  const yLabels = m.rows.map((r) => (spec.rowLabel ? spec.rowLabel(r) : r === '' ? '(none)' : r));
  const text = m.counts.map((row, i) =>
    row.map((v) => {
      if (v === 0) return `<span style="color:${TEXT_MUTED}">0</span>`;
      const color = textColourOn(scaleColour(COLORSCALE, v / zmax));
      return `<span style="color:${color}"><b>${v}</b>  ·  ${percent(v, rowTotals[i] ?? 0)}</span>`;
    }),
  );
  // Hover: the raw route name, the count and that count's share of the row (e.g. of all calls that pressed 1).
  const customdata = m.counts.map((row, i) =>
    row.map((v, j) => {
      const route = m.cols[j] ?? '';
      const total = rowTotals[i] ?? 0;
      return [
        `${routeLabel(route)} (${route})`,
        total > 0 ? `${percent(v, total)} of the ${total} ${spec.rowNoun(m.rows[i] ?? '')}` : `no ${spec.rowNoun(m.rows[i] ?? '')}`,
      ];
    }),
  );
  const height = MARGIN.t + MARGIN.b + Math.max(2, m.rows.length) * spec.rowPx;
  // A long label ("unknown (Genesys unavailable)") is broken on the axis so narrow charts keep room for the cells.
  const tickText = yLabels.map((l) => l.replace(/ \(/, '<br>('));
  const longTicks = tickText.some((t, i) => t !== yLabels[i]);
  const trace = {
    type: 'heatmap',
    z: m.counts,
    x: m.cols.map(routeLabel),
    y: yLabels,
    text,
    texttemplate: '%{text}',
    textfont: { size: 14 },
    customdata,
    hovertemplate: `${spec.yTitle}: <b>%{y}</b><br>Routed to: <b>%{customdata[0]}</b><br>Decisions: <b>%{z}</b><br>%{customdata[1]}<extra></extra>`,
    colorscale: COLORSCALE.map(([t, c]) => [t, c]),
    zauto: false,
    zmin: 0,
    zmax,
    xgap: 3,
    ygap: 3,
    showscale: true,
    colorbar: {
      title: { text: 'Decisions', side: 'top' },
      thickness: 12,
      len: 1,
      outlinewidth: 0,
      tickfont: { size: 12 },
      // Both ends labelled, so the bar reads "0 … max" and a light cell is clearly a low count.
      tickmode: 'array',
      tickvals: colorbarTicks(zmax),
    },
  };
  const layout = {
    height,
    margin: MARGIN,
    font: { family: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif', size: 13, color: '#1d2433' },
    xaxis: { type: 'category', side: 'top', tickangle: 0, automargin: true, tickfont: { size: 14 }, ticks: '', showgrid: false, zeroline: false, fixedrange: true },
    yaxis: {
      type: 'category',
      autorange: 'reversed',
      automargin: true,
      title: { text: spec.yTitle, standoff: 8 },
      tickfont: { size: 13 },
      ticks: '',
      showgrid: false,
      zeroline: false,
      fixedrange: true,
      ...(longTicks ? { tickmode: 'array', tickvals: yLabels, ticktext: tickText } : {}),
    },
    plot_bgcolor: '#ffffff',
    paper_bgcolor: '#ffffff',
    hoverlabel: { bgcolor: '#ffffff', bordercolor: '#aab2bf', font: { size: 13, color: '#1d2433' } },
  };
  return { trace, layout, max, zmax, height };
}

/** Colours of the routes in the "over time" bars. */
const ROUTE_COLOURS: Readonly<Record<string, string>> = { route_to_queue: '#2171b5', route_to_vm: '#e6550d' };

/** The stacked bars of decisions over time (one trace per route), bucket starts on a UTC date axis. */
export function overTimeFigure(series: TimeSeries) {
  const peak = series.counts.reduce((m, row) => Math.max(m, row.reduce((a, b) => a + b, 0)), 0);
  const traces = series.cols.map((route, j) => ({
    type: 'bar',
    name: routeLabel(route),
    x: series.rows,
    y: series.counts.map((row) => row[j] ?? 0),
    marker: { color: ROUTE_COLOURS[route] ?? '#7d8696' },
    hovertemplate: `%{x|%Y-%m-%d %H:%M:%S} UTC<br>${routeLabel(route)}: <b>%{y}</b><extra></extra>`,
  }));
  const layout = {
    barmode: 'stack',
    height: 280,
    bargap: 0.15,
    margin: { l: 48, r: 8, t: 8, b: 40 },
    font: { family: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif', size: 12, color: '#1d2433' },
    xaxis: { type: 'date', automargin: true, fixedrange: true, showgrid: false },
    // Whole decisions on the axis (a small peak would otherwise get 0.2 steps).
    yaxis: { title: { text: 'Decisions' }, rangemode: 'tozero', fixedrange: true, automargin: true, gridcolor: '#eef0f3', tickformat: ',d', ...(peak <= 5 ? { dtick: 1 } : {}) },
    legend: { orientation: 'h', y: 1.12, x: 0, traceorder: 'normal' },
    plot_bgcolor: '#ffffff',
    paper_bgcolor: '#ffffff',
  };
  return { traces, layout, height: 280 };
}

