/** The heatmap page's CSS. */
export const STYLE = `
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
  nav.views { display: flex; gap: 12px; margin: 0 0 8px; font-size: .9rem; }
  nav.views a { color: #2171b5; }
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
         grid-template-columns: minmax(0, 1fr); grid-template-areas: "time" "dtmf" "agents" "hour" "wait"; }
  @media (min-width: 960px) {
    main.charts { grid-template-columns: repeat(2, minmax(420px, 1fr)); grid-template-areas: "time time" "dtmf hour" "agents hour" "wait wait"; }
  }
  @media (min-width: 1600px) {
    main.charts { grid-template-columns: repeat(3, minmax(420px, 1fr)); grid-template-areas: "time time time" "dtmf agents hour" "wait wait wait"; }
  }
  main.is-empty { display: block; }
  section.chart { position: relative; background: #fff; border: 1px solid #dde1e7; border-radius: 8px; padding: 12px 14px 8px; min-width: 0; }
  section.chart h2 { font-size: 1.05rem; margin: 0; }
  section.chart p { margin: 2px 0 4px; color: #5b6474; font-size: .9rem; }
  .chart-head { display: flex; flex-wrap: wrap; justify-content: space-between; gap: 4px 12px; align-items: baseline; }
  .tools { display: flex; gap: 4px; }
  .tools button { padding: 2px 8px; font-size: .8rem; background: #fff; color: #2171b5; }
  #sec-heatmap-dtmf { grid-area: dtmf; } #sec-heatmap-hour { grid-area: hour; } #sec-heatmap-agents { grid-area: agents; } #sec-heatmap-time { grid-area: time; } #sec-heatmap-wait { grid-area: wait; }
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

/** The heatmap page's script: draws every chart of the JSON payload with Plotly and serves the PNG/CSV/JSON buttons. */
export const BOOT = `
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

