import { BOOT, STYLE } from './heatmap-assets';
import { overTimeFigure, heatmapFigure, specs } from './heatmap-figures';
import { escapeHtml, escapeScript, formatBucket, formatSpan, formatUtc, inlinePlotly, jsonForScript, percent, routeLabel } from './heatmap-format';
import { waitCellText, waitDescription, waitFigure } from './heatmap-wait';
import { routeTotals } from './matrix';
import type { HeatmapData, HeatmapQuery } from './store';

export * from './heatmap-format';
export * from './heatmap-colour';
export * from './heatmap-figures';

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

/** The data behind a chart, as exported (CSV/JSON) and shown in its hidden table. */
interface ChartTable {
  rowTitle: string;
  rows: string[];
  cols: string[];
  /** Counts; the wait view's cells are words ("62.8 s mean over 2 of 2 decisions", "no figure (1 decision)", ""). */
  counts: Array<Array<number | string>>;
}

function tableHtml(id: string, caption: string, t: ChartTable): string {
  const head = `<tr><th scope="col">${escapeHtml(t.rowTitle)}</th>${t.cols.map((c) => `<th scope="col">${escapeHtml(c)}</th>`).join('')}</tr>`;
  const body = t.rows
    .map((r, i) => `<tr><th scope="row">${escapeHtml(r)}</th>${t.cols.map((_, j) => `<td>${escapeHtml(String(t.counts[i]?.[j] ?? 0))}</td>`).join('')}</tr>`)
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
  const wait = waitFigure(data.wait);
  tables['heatmap-wait'] = { rowTitle: 'DTMF pressed', rows: data.wait.rows, cols: data.wait.cols.map((h) => `${h}:00`), counts: data.wait.rows.map((_, i) => data.wait.cols.map((_, j) => waitCellText(data.wait, i, j))) };
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
          { id: 'heatmap-wait', max: wait.max, traces: wait.traces, layout: wait.layout },
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
    ...(data.wait.totals.withFigure
      ? [tile('Estimated wait (mean)', `${data.wait.totals.meanS} s<small>${data.wait.totals.withFigure} of ${data.wait.totals.decisions} with a figure</small>`, 'wait-mean')]
      : []),
    ...(data.wait.totals.routedByWait ? [tile('Voicemail by max wait', `${data.wait.totals.routedByWait}<small>${escapeHtml(percent(data.wait.totals.routedByWait, data.total))}</small>`, 'wait-rule')] : []),
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
    chartSection('heatmap-wait', 'Estimated wait: DTMF pressed × hour of day (UTC)', waitDescription(data.wait), wait.height, tables['heatmap-wait']!),
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
    ${empty ? '' : '<nav class="views" aria-label="Views"><a href="#sec-heatmap-dtmf">Routes</a><a href="#sec-heatmap-wait" id="view-wait">Estimated wait</a></nav>'}
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
