import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { routeTotals } from './matrix';
import type { CountMatrix, HeatmapData, HeatmapQuery } from './store';

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
}

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
      rowNoun: (r) => `calls with ${r} agent${r === '1' ? '' : 's'} available`,
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
export function heatmapFigure(spec: Pick<ChartSpec, 'yTitle' | 'rowNoun' | 'matrix' | 'rowPx'>) {
  const m = spec.matrix;
  const max = m.counts.reduce((a, row) => row.reduce((b, v) => Math.max(b, v), a), 0);
  // A chart with nothing in it still gets a valid range (0..1) so every cell shows the "zero" colour.
  const zmax = Math.max(1, max);
  const rowTotals = m.counts.map((row) => row.reduce((s, v) => s + v, 0));
  const yLabels = m.rows.map((r) => (r === '' ? '(none)' : r));
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
    },
    plot_bgcolor: '#ffffff',
    paper_bgcolor: '#ffffff',
    hoverlabel: { bgcolor: '#ffffff', bordercolor: '#aab2bf', font: { size: 13, color: '#1d2433' } },
  };
  return { trace, layout, max, zmax, height };
}

const STYLE = `
  :root { color-scheme: light; }
  * { box-sizing: border-box; }
  body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; background: #f3f5f8; color: #1d2433; font-size: 15px; }
  header { background: #fff; border-bottom: 1px solid #dde1e7; padding: 14px 24px 16px; }
  h1 { font-size: 1.45rem; margin: 0 0 2px; }
  .subtitle { margin: 0 0 12px; color: #4a5363; }
  dl.summary { display: flex; flex-wrap: wrap; gap: 10px 36px; margin: 0; }
  dl.summary div { display: flex; flex-direction: column; }
  dl.summary dt { font-size: .75rem; text-transform: uppercase; letter-spacing: .05em; color: #5b6474; }
  dl.summary dd { margin: 2px 0 0; font-size: 1.15rem; font-weight: 650; font-variant-numeric: tabular-nums; }
  dl.summary dd small { font-weight: 500; color: #5b6474; font-size: .85rem; margin-left: 4px; }
  dl.summary dd.range { font-size: 1rem; font-weight: 600; }
  main { padding: 16px 24px; display: grid; gap: 16px; align-items: start;
         grid-template-columns: minmax(0, 1fr); grid-template-areas: "dtmf" "agents" "hour"; }
  @media (min-width: 960px) {
    main { grid-template-columns: repeat(2, minmax(420px, 1fr)); grid-template-areas: "dtmf hour" "agents hour"; }
  }
  @media (min-width: 1600px) {
    main { grid-template-columns: repeat(3, minmax(420px, 1fr)); grid-template-areas: "dtmf agents hour"; }
  }
  main.is-empty { display: block; }
  section.chart { background: #fff; border: 1px solid #dde1e7; border-radius: 8px; padding: 12px 14px 8px; min-width: 0; }
  section.chart h2 { font-size: 1.05rem; margin: 0; }
  section.chart p { margin: 2px 0 4px; color: #5b6474; font-size: .9rem; }
  #sec-heatmap-dtmf { grid-area: dtmf; } #sec-heatmap-hour { grid-area: hour; } #sec-heatmap-agents { grid-area: agents; }
  .plot { width: 100%; }
  .empty { margin: 48px auto; max-width: 680px; background: #fff; border: 1px dashed #aab2bf; border-radius: 8px; padding: 32px; text-align: center; font-size: 1.1rem; }
  .empty strong { display: block; font-size: 1.25rem; margin-bottom: 8px; }
  code { background: #eef0f3; padding: 1px 5px; border-radius: 4px; }
  footer { padding: 4px 24px 20px; color: #5b6474; font-size: .85rem; }
`;

const BOOT = `
(function () {
  var data = JSON.parse(document.getElementById('heatmap-data').textContent);
  data.charts.forEach(function (c) {
    var el = document.getElementById(c.id);
    if (!el || !window.Plotly) return;
    window.Plotly.newPlot(el, [c.trace], c.layout, { responsive: true, displaylogo: false, displayModeBar: false });
  });
})();
`;

/** One self-contained HTML page (plotly.js inlined, works offline) with the three decision heatmaps. */
export function renderHeatmapHtml(data: HeatmapData, options: RenderHeatmapOptions = {}): string {
  const title = options.title ?? 'IVR decision heatmaps';
  const generatedAt = options.generatedAt ?? new Date().toISOString();
  const range: HeatmapQuery = {
    ...(options.range?.from ? { from: options.range.from } : {}),
    ...(options.range?.to ? { to: options.range.to } : {}),
  };
  const hasRange = range.from !== undefined || range.to !== undefined;
  const totals = routeTotals(data.hourByRoute.rows.length ? data.hourByRoute : data.dtmfByRoute);
  const empty = data.total === 0;
  const charts = specs(data).map((s) => ({ ...s, figure: heatmapFigure(s) }));
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
      : charts.map((c) => ({ id: c.id, yTitle: c.yTitle, max: c.figure.max, zmax: c.figure.zmax, trace: c.figure.trace, layout: c.figure.layout })),
    data,
  };

  const tile = (label: string, valueHtml: string, field: string, cls = '') =>
    `<div><dt>${escapeHtml(label)}</dt><dd data-field="${escapeHtml(field)}"${cls ? ` class="${cls}"` : ''}>${valueHtml}</dd></div>`;
  const timeTag = (iso: string | null | undefined) => (iso ? `<time datetime="${escapeHtml(iso)}">${escapeHtml(formatUtc(iso))}</time>` : '');
  const tiles = [
    tile('Total decisions', escapeHtml(String(data.total)), 'total'),
    ...Object.entries(totals).map(([route, n]) =>
      tile(routeLabel(route), `${escapeHtml(String(n))}<small>${escapeHtml(percent(n, data.total) || '—')}</small>`, route),
    ),
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

  const emptyBody = hasRange
    ? `<div class="empty" id="heatmap-empty" role="status"><strong>No decisions in this time range</strong>` +
      `Requested range: ${escapeHtml(formatSpan(range.from, range.to))}.<br>Widen the range, or drop <code>from</code> and <code>to</code> to see all decisions.</div>`
    : `<div class="empty" id="heatmap-empty" role="status"><strong>No decisions recorded yet</strong>` +
      `Run <code>pnpm demo</code> or send a webhook, then reload this page.</div>`;

  const body = empty
    ? emptyBody
    : charts
        .map(
          (c) => `<section class="chart" id="sec-${c.id}" aria-labelledby="${c.id}-title">
      <h2 id="${c.id}-title">${escapeHtml(c.heading)}</h2>
      <p>${escapeHtml(c.description)}</p>
      <div class="plot" id="${c.id}" style="height:${c.figure.height}px" role="img" aria-label="${escapeHtml(c.heading)}"></div>
    </section>`,
        )
        .join('\n    ');

  const footer = [
    `Data source: ${escapeHtml(options.source ?? 'decision store')}`,
    `Generated ${timeTag(generatedAt) || escapeHtml(generatedAt)}`,
    'All times UTC',
  ].join(' · ');

  const scripts = empty ? '' : `<script>${inlinePlotly()}</script>\n<script>${escapeScript(BOOT)}</script>`;

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
  <header>
    <h1>${escapeHtml(title)}</h1>
    <p class="subtitle">${escapeHtml(subtitle)}</p>
    <dl class="summary">
      ${tiles}
    </dl>
  </header>
  <main${empty ? ' class="is-empty"' : ''}>
    ${body}
  </main>
  <footer id="heatmap-footer">${footer}</footer>
<script type="application/json" id="heatmap-data">${jsonForScript(payload)}</script>
${scripts}
</body>
</html>
`;
}
