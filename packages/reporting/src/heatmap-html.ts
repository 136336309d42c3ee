import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { routeTotals } from './matrix';
import type { CountMatrix, HeatmapData, HeatmapQuery, TimeSeries } from './store';

export interface RenderHeatmapOptions {
  title?: string;
  /** ISO time shown in the footer (default: now). */
  generatedAt?: string;
  /**
   * The time range that was asked for (e.g. /admin/heatmap?from=…&to=…). Shown in the header; an empty
   * result with a range reads "No decisions in this time range" rather than "No decisions recorded yet".
   */
  range?: HeatmapQuery;
  /** Where the data comes from, shown in the footer, e.g. "embedded store (Redis)"; see {@link describeStoreSource}. */
  source?: string;
  /** Trusted HTML put first in <body> (the dashboard's navigation bar), and its CSS. */
  headerHtml?: string;
  headCss?: string;
  /** Range controls (the live dashboard page): presets and a from/to form. */
  controls?: HeatmapControls;
  /** Shown instead of the charts (e.g. a range that could not be parsed, the store unavailable). */
  error?: string;
}

export interface HeatmapControls {
  /** Form action (GET). */
  action: string;
  /** The raw from/to values to show in the form (e.g. "now-1h", "now"). */
  from: string;
  to: string;
  presets: ReadonlyArray<{ label: string; href: string; active: boolean }>;
  /** E.g. "Buckets of 1 min". */
  note?: string;
}

/** Display label of an agents row: the fail-open row says what it is. */
export const AGENT_ROW_LABELS: Readonly<Record<string, string>> = { unknown: 'unknown (Genesys unavailable)' };

let plotlyCache: string | undefined;

/** plotly.min.js from plotly.js-dist-min, read once, made safe to inline in a <script> element. */
export function inlinePlotly(): string {
  if (plotlyCache === undefined) {
    const file = createRequire(import.meta.url).resolve('plotly.js-dist-min');
    plotlyCache = escapeScript(readFileSync(file, 'utf8'));
  }
  return plotlyCache;
}

/** Escape text for HTML content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Make JavaScript safe inside <script>…</script>: no closing tag, no HTML comment opener. */
function escapeScript(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

/** JSON safe inside <script>: `<`, `>`, `&` and line separators escaped as \u sequences (still valid JSON). */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Short, operator-facing names for the routes (the raw names stay in hover text and the JSON). */
export const ROUTE_LABELS: Readonly<Record<string, string>> = { route_to_queue: 'Agent queue', route_to_vm: 'Voicemail' };

const routeLabel = (route: string): string => ROUTE_LABELS[route] ?? route;

/** The footer's data-source line for a decision store: "embedded store (Redis)" or "Elasticsearch index <name>". */
export function describeStoreSource(store: { kind: string; index?: string | undefined }): string {
  if (store.kind === 'embedded') return 'embedded store (Redis)';
  if (store.kind === 'elasticsearch') return store.index ? `Elasticsearch index ${store.index}` : 'Elasticsearch';
  return store.kind;
}

/** "2024-03-01T09:00:00.000Z" → "2024-03-01 09:00:00 UTC" (unparseable input is returned as is). */
export function formatUtc(iso: string): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return iso;
  const s = new Date(ms).toISOString();
  return `${s.slice(0, 10)} ${s.slice(11, 19)} UTC`;
}

/** A time span, the date written once when both ends fall on the same UTC day. */
export function formatSpan(from: string | null | undefined, to: string | null | undefined): string {
  if (!from && !to) return 'all time';
  if (from && !to) return `since ${formatUtc(from)}`;
  if (!from && to) return `before ${formatUtc(to)}`;
  const a = formatUtc(from!);
  const b = formatUtc(to!);
  const parsed = a !== from && b !== to;
  if (parsed && a.slice(0, 10) === b.slice(0, 10)) return `${a.slice(0, 19)} → ${b.slice(11)}`;
  return `${parsed ? a.replace(/ UTC$/, '') : a} → ${b}`;
}

// Colour scale: an almost-white "nothing here" at 0 up to a dark blue at the chart's maximum.
export const COLORSCALE: ReadonlyArray<readonly [number, string]> = [
  [0, '#f3f5f8'],
  [0.0001, '#deebf7'],
  [0.25, '#9ecae1'],
  [0.5, '#4292c6'],
  [0.75, '#2171b5'],
  [1, '#08306b'],
];
const TEXT_DARK = '#000000';
const TEXT_LIGHT = '#ffffff';
/** Zero cells: muted, they are the background of the picture. */
const TEXT_MUTED = '#7d8696';

const hexRgb = (hex: string): [number, number, number] => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];

/** The colour `scale` gives t in [0, 1], interpolated in RGB between stops as Plotly does. */
export function scaleColour(scale: ReadonlyArray<readonly [number, string]>, t: number): string {
  const x = Math.min(1, Math.max(0, t));
  for (let i = 1; i < scale.length; i++) {
    const [t1, c1] = scale[i]!;
    const [t0, c0] = scale[i - 1]!;
    if (x <= t1) {
      const f = t1 === t0 ? 1 : (x - t0) / (t1 - t0);
      const a = hexRgb(c0);
      const b = hexRgb(c1);
      return `#${a.map((v, k) => Math.round(v * (1 - f) + b[k]! * f).toString(16).padStart(2, '0')).join('')}`;
    }
  }
  return scale[scale.length - 1]![1];
}

/** WCAG relative luminance of #rrggbb. */
export function luminance(hex: string): number {
  const [r, g, b] = hexRgb(hex).map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG contrast ratio of two #rrggbb colours (1..21). */
export function contrastRatio(a: string, b: string): number {
  const la = luminance(a);
  const lb = luminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

/** Black or white, whichever reads better on `background`. */
function textColourOn(background: string): string {
  return contrastRatio(TEXT_DARK, background) >= contrastRatio(TEXT_LIGHT, background) ? TEXT_DARK : TEXT_LIGHT;
}

interface ChartSpec {
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

function specs(data: HeatmapData): ChartSpec[] {
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

/** Whole-number percentage, "<1%" for small non-zero shares. */
function percent(n: number, of: number): string {
  if (of <= 0) return '';
  const p = (100 * n) / of;
  if (n > 0 && p < 1) return '<1%';
  return `${Math.round(p)}%`;
}

/** 0, the maximum and up to three round values in between, for the colour bar. */
export function colorbarTicks(zmax: number): number[] {
  const raw = zmax / 4;
  const mag = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks = [0];
  for (let v = step; v < zmax - step / 2; v += step) ticks.push(Math.round(v));
  ticks.push(zmax);
  return ticks;
}

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

/** Bucket width as words: "30 s", "1 min", "3 h", "1 d". */
export function formatBucket(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000} d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Math.round(ms / 1000)} s`;
}

const STYLE = `
  :root { color-scheme: light; }
  * { box-sizing: border-box; }
  body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; background: #f3f5f8; color: #1d2433; font-size: 15px; }
  header.page { background: #fff; border-bottom: 1px solid #dde1e7; padding: 14px 24px 16px; }
  h1 { font-size: 1.45rem; margin: 0 0 2px; }
  .subtitle { margin: 0 0 12px; color: #4a5363; }
  dl.summary { display: flex; flex-wrap: wrap; gap: 10px 36px; margin: 0; }
  dl.summary div { display: flex; flex-direction: column; }
  dl.summary dt { font-size: .75rem; text-transform: uppercase; letter-spacing: .05em; color: #5b6474; }
  dl.summary dd { margin: 2px 0 0; font-size: 1.15rem; font-weight: 650; font-variant-numeric: tabular-nums; }
  dl.summary dd small { font-weight: 500; color: #5b6474; font-size: .85rem; margin-left: 4px; }
  dl.summary dd.range { font-size: 1rem; font-weight: 600; }
  .controls { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; margin: 0 0 12px; }
  .presets { display: flex; flex-wrap: wrap; gap: 4px; }
  .presets a { border: 1px solid #aab2bf; border-radius: 4px; padding: 5px 10px; color: #1d2433; text-decoration: none; background: #fff; }
  .presets a[aria-current="true"] { background: #1d2433; color: #fff; border-color: #1d2433; }
  .controls form { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
  .controls input { font: inherit; padding: 5px 8px; border: 1px solid #aab2bf; border-radius: 4px; width: 13em; max-width: 100%; }
  .controls button, .tools button { font: inherit; padding: 5px 12px; border-radius: 4px; border: 1px solid #2171b5; background: #2171b5; color: #fff; cursor: pointer; }
  .controls .note { color: #5b6474; font-size: .85rem; }
  .error { border-left: 4px solid #b3261e; background: #fff4f2; padding: 10px 14px; margin: 16px 24px; border-radius: 4px; }
  main.charts { padding: 16px 24px; display: grid; gap: 16px; align-items: start;
         grid-template-columns: minmax(0, 1fr); grid-template-areas: "time" "dtmf" "agents" "hour"; }
  @media (min-width: 960px) {
    main.charts { grid-template-columns: repeat(2, minmax(420px, 1fr)); grid-template-areas: "time time" "dtmf hour" "agents hour"; }
  }
  @media (min-width: 1600px) {
    main.charts { grid-template-columns: repeat(3, minmax(420px, 1fr)); grid-template-areas: "time time time" "dtmf agents hour"; }
  }
  main.is-empty { display: block; }
  section.chart { position: relative; background: #fff; border: 1px solid #dde1e7; border-radius: 8px; padding: 12px 14px 8px; min-width: 0; }
  section.chart h2 { font-size: 1.05rem; margin: 0; }
  section.chart p { margin: 2px 0 4px; color: #5b6474; font-size: .9rem; }
  .chart-head { display: flex; flex-wrap: wrap; justify-content: space-between; gap: 4px 12px; align-items: baseline; }
  .tools { display: flex; gap: 4px; }
  .tools button { padding: 2px 8px; font-size: .8rem; background: #fff; color: #2171b5; }
  #sec-heatmap-dtmf { grid-area: dtmf; } #sec-heatmap-hour { grid-area: hour; } #sec-heatmap-agents { grid-area: agents; } #sec-heatmap-time { grid-area: time; }
  .plot { width: 100%; }
  .visually-hidden { position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
  .empty { margin: 48px auto; max-width: 680px; background: #fff; border: 1px dashed #aab2bf; border-radius: 8px; padding: 32px; text-align: center; font-size: 1.1rem; }
  .empty strong { display: block; font-size: 1.25rem; margin-bottom: 8px; }
  code { background: #eef0f3; padding: 1px 5px; border-radius: 4px; }
  footer { padding: 4px 24px 20px; color: #5b6474; font-size: .85rem; }
  @media (max-width: 600px) {
    header.page { padding: 10px 12px 12px; }
    main.charts { padding: 10px 8px; gap: 10px; }
    section.chart { padding: 10px 8px 6px; }
    .error { margin: 10px 8px; }
    footer { padding: 4px 12px 16px; }
  }
`;

const BOOT = `
(function () {
  var data = JSON.parse(document.getElementById('heatmap-data').textContent);
  var narrow = window.matchMedia && window.matchMedia('(max-width: 600px)').matches;
  data.charts.forEach(function (c) {
    var el = document.getElementById(c.id);
    if (!el || !window.Plotly) return;
    var traces = c.traces || [c.trace];
    var layout = c.layout;
    if (narrow && c.trace) {
      // A phone: smaller cell text, no colour bar (the numbers are in the cells), tighter margins, so nothing clips.
      traces = [Object.assign({}, c.trace, { textfont: { size: 12 }, showscale: false })];
      layout = Object.assign({}, layout, { margin: { l: 8, r: 4, t: 36, b: 8 } });
    }
    window.Plotly.newPlot(el, traces, layout, { responsive: true, displaylogo: false, displayModeBar: false });
  });
  function download(name, type, text) {
    var a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([text], { type: type }));
    a.download = name;
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 0);
  }
  function csvCell(v) { v = String(v); return /[",\\n\\r]/.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v; }
  document.addEventListener('click', function (ev) {
    var b = ev.target && ev.target.closest ? ev.target.closest('button[data-export]') : null;
    if (!b) return;
    var id = b.getAttribute('data-chart');
    var t = data.tables[id];
    if (!t) return;
    var kind = b.getAttribute('data-export');
    if (kind === 'png' && window.Plotly) window.Plotly.downloadImage(document.getElementById(id), { format: 'png', filename: id, scale: 2 });
    if (kind === 'json') download(id + '.json', 'application/json', JSON.stringify(t, null, 2));
    if (kind === 'csv') {
      var lines = [[t.rowTitle].concat(t.cols).map(csvCell).join(',')];
      t.rows.forEach(function (r, i) { lines.push([r].concat(t.counts[i]).map(csvCell).join(',')); });
      download(id + '.csv', 'text/csv', lines.join('\\r\\n') + '\\r\\n');
    }
  });
})();
`;

/** The data behind a chart, as exported (CSV/JSON) and shown in its hidden table. */
interface ChartTable {
  rowTitle: string;
  rows: string[];
  cols: string[];
  counts: number[][];
}

function tableHtml(id: string, caption: string, t: ChartTable): string {
  const head = `<tr><th scope="col">${escapeHtml(t.rowTitle)}</th>${t.cols.map((c) => `<th scope="col">${escapeHtml(c)}</th>`).join('')}</tr>`;
  const body = t.rows
    .map((r, i) => `<tr><th scope="row">${escapeHtml(r)}</th>${t.cols.map((_, j) => `<td>${t.counts[i]?.[j] ?? 0}</td>`).join('')}</tr>`)
    .join('');
  // The wrapper is what is hidden: a table sizes itself to its content whatever its own width says.
  return `<div class="visually-hidden"><table id="${id}-table"><caption>${escapeHtml(caption)}</caption><thead>${head}</thead><tbody>${body}</tbody></table></div>`;
}

function chartSection(id: string, heading: string, description: string, height: number, t: ChartTable): string {
  const tools = ['png', 'csv', 'json']
    .map((k) => `<button type="button" data-export="${k}" data-chart="${id}" aria-label="Download ${escapeHtml(heading)} as ${k.toUpperCase()}">${k.toUpperCase()}</button>`)
    .join('');
  return `<section class="chart" id="sec-${id}" aria-labelledby="${id}-title">
      <div class="chart-head"><h2 id="${id}-title">${escapeHtml(heading)}</h2><div class="tools">${tools}</div></div>
      <p>${escapeHtml(description)}</p>
      <div class="plot" id="${id}" style="height:${height}px" role="img" aria-label="${escapeHtml(heading)} (the numbers are in the table that follows)"></div>
      ${tableHtml(id, heading, t)}
    </section>`;
}

function controlsHtml(c: HeatmapControls): string {
  const presets = c.presets
    .map((p) => `<a href="${escapeHtml(p.href)}"${p.active ? ' aria-current="true"' : ''}>${escapeHtml(p.label)}</a>`)
    .join('');
  return `<div class="controls" id="heatmap-controls">
      <nav class="presets" aria-label="Time range presets">${presets}</nav>
      <form method="get" action="${escapeHtml(c.action)}">
        <label>From <input name="from" value="${escapeHtml(c.from)}" placeholder="now-1h or 2024-05-01T09:00Z"></label>
        <label>To <input name="to" value="${escapeHtml(c.to)}" placeholder="now"></label>
        <button type="submit">Show</button>
      </form>
      ${c.note ? `<span class="note">${escapeHtml(c.note)}</span>` : ''}
    </div>`;
}

/** One self-contained HTML page (plotly.js inlined, works offline) with the decision charts. */
export function renderHeatmapHtml(data: HeatmapData, options: RenderHeatmapOptions = {}): string {
  const title = options.title ?? 'IVR decision heatmaps';
  const generatedAt = options.generatedAt ?? new Date().toISOString();
  const range: HeatmapQuery = {
    ...(options.range?.from ? { from: options.range.from } : {}),
    ...(options.range?.to ? { to: options.range.to } : {}),
  };
  const hasRange = range.from !== undefined || range.to !== undefined;
  const totals = routeTotals(data.hourByRoute.rows.length ? data.hourByRoute : data.dtmfByRoute);
  const empty = data.total === 0 || options.error !== undefined;
  const charts = specs(data).map((s) => ({ ...s, figure: heatmapFigure(s) }));
  const time = data.overTime ? overTimeFigure(data.overTime) : null;
  const tables: Record<string, ChartTable> = {};
  for (const c of charts) {
    tables[c.id] = {
      rowTitle: c.yTitle,
      rows: c.matrix.rows.map((r) => (c.rowLabel ? c.rowLabel(r) : r === '' ? '(none)' : r)),
      cols: c.matrix.cols.map(routeLabel),
      counts: c.matrix.counts,
    };
  }
  if (data.overTime) {
    tables['heatmap-time'] = { rowTitle: 'Bucket start (UTC)', rows: data.overTime.rows, cols: data.overTime.cols.map(routeLabel), counts: data.overTime.counts };
  }
  const payload = {
    title,
    generatedAt,
    total: data.total,
    from: data.from,
    to: data.to,
    range: hasRange ? range : null,
    source: options.source ?? null,
    routeTotals: totals,
    charts: empty
      ? []
      : [
          ...(time ? [{ id: 'heatmap-time', traces: time.traces, layout: time.layout }] : []),
          ...charts.map((c) => ({ id: c.id, yTitle: c.yTitle, max: c.figure.max, zmax: c.figure.zmax, trace: c.figure.trace, layout: c.figure.layout })),
        ],
    tables,
    data,
  };

  const tile = (label: string, valueHtml: string, field: string, cls = '') =>
    `<div><dt>${escapeHtml(label)}</dt><dd data-field="${escapeHtml(field)}"${cls ? ` class="${cls}"` : ''}>${valueHtml}</dd></div>`;
  const timeTag = (iso: string | null | undefined) => (iso ? `<time datetime="${escapeHtml(iso)}">${escapeHtml(formatUtc(iso))}</time>` : '');
  const failOpen = data.agentsByRoute.rows.indexOf('unknown');
  const failOpenCount = failOpen < 0 ? 0 : (data.agentsByRoute.counts[failOpen] ?? []).reduce((a, b) => a + b, 0);
  const tiles = [
    tile('Total decisions', escapeHtml(String(data.total)), 'total'),
    ...Object.entries(totals).map(([route, n]) =>
      tile(routeLabel(route), `${escapeHtml(String(n))}<small>${escapeHtml(percent(n, data.total) || '—')}</small>`, route),
    ),
    ...(failOpenCount ? [tile('Genesys unavailable (fail-open)', `${failOpenCount}<small>${escapeHtml(percent(failOpenCount, data.total))}</small>`, 'fail-open')] : []),
    ...(data.latency ? [tile('Decision latency p50 / p99', `${Math.round(data.latency.p50)} / ${Math.round(data.latency.p99)} ms`, 'latency')] : []),
    ...(hasRange ? [tile('Requested range', escapeHtml(formatSpan(range.from, range.to)), 'requested-range', 'range')] : []),
    tile(
      'First → last decision',
      data.from && data.to ? `${escapeHtml(formatSpan(data.from, data.to))}` : '—',
      'decision-span',
      'range',
    ),
  ].join('\n      ');

  const subtitle = empty
    ? 'Where the IVR routed callers: agent queue or voicemail.'
    : `Where the IVR routed ${data.total} call${data.total === 1 ? '' : 's'}: agent queue or voicemail. Each cell shows the number of decisions and its share of the row.`;

  const emptyBody = options.error !== undefined
    ? ''
    : hasRange
      ? `<div class="empty" id="heatmap-empty" role="status"><strong>No decisions in this time range</strong>` +
        `Requested range: ${escapeHtml(formatSpan(range.from, range.to))}.<br>Widen the range, or drop <code>from</code> and <code>to</code> to see all decisions.</div>`
      : `<div class="empty" id="heatmap-empty" role="status"><strong>No decisions recorded yet</strong>` +
        `Run <code>pnpm demo</code> or send a webhook, then reload this page.</div>`;

  const sections = [
    ...(data.overTime && time
      ? [chartSection('heatmap-time', 'Decisions over time', `Decisions per ${formatBucket(data.overTime.bucketMs)} bucket, by route (UTC).`, time.height, tables['heatmap-time']!)]
      : []),
    ...charts.map((c) => chartSection(c.id, c.heading, c.description, c.figure.height, tables[c.id]!)),
  ];
  const body = empty ? emptyBody : sections.join('\n    ');

  const footer = [
    `Data source: ${escapeHtml(options.source ?? 'decision store')}`,
    `Generated ${timeTag(generatedAt) || escapeHtml(generatedAt)}`,
    'All times UTC',
  ].join(' · ');

  const scripts = empty ? '' : `<script>${inlinePlotly()}</script>\n<script>${escapeScript(BOOT)}</script>`;
  const error = options.error !== undefined ? `<div class="error" id="heatmap-error" role="alert"><strong>Cannot show this range.</strong> ${escapeHtml(options.error)}</div>` : '';

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}${options.headCss ?? ''}</style>
</head>
<body>
  ${options.headerHtml ?? ''}
  <header class="page">
    <h1>${escapeHtml(title)}</h1>
    ${options.controls ? controlsHtml(options.controls) : ''}
    ${options.error !== undefined ? '' : `<p class="subtitle">${escapeHtml(subtitle)}</p>
    <dl class="summary">
      ${tiles}
    </dl>`}
  </header>
  ${error}
  <main class="charts${empty ? ' is-empty' : ''}">
    ${body}
  </main>
  <footer id="heatmap-footer">${footer}</footer>
<script type="application/json" id="heatmap-data">${jsonForScript(payload)}</script>
${scripts}
</body>
</html>
`;
}
