import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { routeTotals } from './matrix';
import type { CountMatrix, HeatmapData } from './store';

export interface RenderHeatmapOptions {
  title?: string;
  /** ISO time shown in the header (default: now). */
  generatedAt?: string;
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

const ROUTE_LABELS: Record<string, string> = { route_to_queue: 'Agent queue', route_to_vm: 'Voicemail' };

interface ChartSpec {
  id: string;
  title: string;
  yTitle: string;
  matrix: CountMatrix;
}

function charts(data: HeatmapData): ChartSpec[] {
  return [
    { id: 'heatmap-dtmf', title: 'DTMF pressed × routing decision', yTitle: 'DTMF pressed', matrix: data.dtmfByRoute },
    { id: 'heatmap-hour', title: 'Hour of day (UTC) × routing decision', yTitle: 'Hour of day (UTC)', matrix: data.hourByRoute },
    { id: 'heatmap-agents', title: 'Available agents × routing decision', yTitle: 'Available agents', matrix: data.agentsByRoute },
  ];
}

const STYLE = `
  :root { color-scheme: light; }
  body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; background: #f6f7f9; color: #1d2433; }
  header { background: #fff; border-bottom: 1px solid #dde1e7; padding: 16px 24px; }
  h1 { font-size: 1.4rem; margin: 0 0 8px; }
  dl.summary { display: flex; flex-wrap: wrap; gap: 8px 28px; margin: 0; }
  dl.summary div { display: flex; flex-direction: column; }
  dl.summary dt { font-size: .75rem; text-transform: uppercase; letter-spacing: .04em; color: #5b6474; }
  dl.summary dd { margin: 0; font-size: 1.05rem; font-weight: 600; font-variant-numeric: tabular-nums; }
  main { padding: 16px 24px; display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; }
  section.chart { background: #fff; border: 1px solid #dde1e7; border-radius: 8px; padding: 8px; }
  .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
  .plot { width: 100%; height: 480px; }
  #heatmap-hour { height: 640px; }
  .empty { margin: 48px auto; max-width: 640px; background: #fff; border: 1px dashed #aab2bf; border-radius: 8px; padding: 32px; text-align: center; font-size: 1.1rem; }
  code { background: #eef0f3; padding: 1px 5px; border-radius: 4px; }
`;

const BOOT = `
(function () {
  var data = JSON.parse(document.getElementById('heatmap-data').textContent);
  var labels = ${jsonForScript(ROUTE_LABELS)};
  data.charts.forEach(function (c) {
    var el = document.getElementById(c.id);
    if (!el || !window.Plotly) return;
    var m = c.matrix;
    var trace = {
      type: 'heatmap',
      z: m.counts,
      x: m.cols,
      y: m.rows,
      text: m.counts,
      texttemplate: '%{z}',
      textfont: { size: 14 },
      hovertemplate: c.yTitle + ': %{y}<br>Routing decision: %{x}<br>Decisions: %{z}<extra></extra>',
      colorscale: 'YlGnBu',
      reversescale: true,
      zmin: 0,
      zmax: Math.max(1, Math.max.apply(null, m.counts.map(function (row) { return Math.max.apply(null, row.concat([0])); }))),
      xgap: 2,
      ygap: 2,
      colorbar: { title: { text: 'Decisions' } }
    };
    var layout = {
      title: { text: c.title, x: 0.01, xanchor: 'left' },
      xaxis: {
        title: { text: 'Routing decision' }, type: 'category', side: 'bottom', tickangle: 0,
        tickvals: m.cols,
        ticktext: m.cols.map(function (r) { return labels[r] ? labels[r] + '<br>' + r : r; })
      },
      yaxis: { title: { text: c.yTitle }, type: 'category', autorange: 'reversed' },
      margin: { l: 90, r: 20, t: 50, b: 80 }
    };
    window.Plotly.newPlot(el, [trace], layout, { responsive: true, displaylogo: false, displayModeBar: false });
  });
})();
`;

/** One self-contained HTML page (plotly.js inlined, works offline) with the three decision heatmaps. */
export function renderHeatmapHtml(data: HeatmapData, options: RenderHeatmapOptions = {}): string {
  const title = options.title ?? 'IVR decision heatmaps';
  const generatedAt = options.generatedAt ?? new Date().toISOString();
  const totals = routeTotals(data.hourByRoute.rows.length ? data.hourByRoute : data.dtmfByRoute);
  const empty = data.total === 0;
  const specs = charts(data);
  const payload = {
    title,
    generatedAt,
    total: data.total,
    from: data.from,
    to: data.to,
    routeTotals: totals,
    charts: specs.map((c) => ({ id: c.id, title: c.title, yTitle: c.yTitle, matrix: c.matrix })),
    data,
  };

  const summary = [
    ['Total decisions', String(data.total)],
    ['Time range', data.from && data.to ? `${data.from} → ${data.to}` : '—'],
    ...Object.entries(totals).map(([route, n]) => [ROUTE_LABELS[route] ? `${ROUTE_LABELS[route]} (${route})` : route, String(n)] as [string, string]),
    ['Generated at', generatedAt],
  ]
    .map(([k, v]) => `<div><dt>${escapeHtml(k!)}</dt><dd data-field="${escapeHtml(k!)}">${escapeHtml(v!)}</dd></div>`)
    .join('\n        ');

  const body = empty
    ? `<div class="empty" id="heatmap-empty" role="status">No decisions recorded yet — run <code>pnpm demo</code> or send a webhook.</div>`
    : specs
        .map(
          (c) => `<section class="chart" aria-labelledby="${c.id}-title">
      <h2 class="visually-hidden" id="${c.id}-title">${escapeHtml(c.title)}</h2>
      <div class="plot" id="${c.id}" role="img" aria-label="${escapeHtml(c.title)}"></div>
    </section>`,
        )
        .join('\n    ');

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
    <dl class="summary">
        ${summary}
    </dl>
  </header>
  <main${empty ? ' class="is-empty"' : ''}>
    ${body}
  </main>
<script type="application/json" id="heatmap-data">${jsonForScript(payload)}</script>
${scripts}
</body>
</html>
`;
}
