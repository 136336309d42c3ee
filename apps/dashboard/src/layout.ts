import { escapeHtml } from '@ivr/reporting';

/** The pages of the shared navigation bar, in order. */
const NAV = [
  { id: 'home', href: '/admin', label: 'Status' },
  { id: 'events', href: '/admin/events', label: 'Find a call' },
  { id: 'heatmap', href: '/admin/heatmap', label: 'Heatmaps' },
  { id: 'failures', href: '/admin/failures', label: 'Failures' },
  { id: 'queues', href: '/admin/queues', label: 'Bull Board' },
  { id: 'metrics', href: '/admin/metrics', label: 'Metrics' },
] as const;
export type NavId = (typeof NAV)[number]['id'];

export interface NavOptions {
  active?: NavId | undefined;
  /** Show the sign-out button (a session or credentials are in use). */
  signOut?: boolean | undefined;
  readOnly?: boolean | undefined;
}

/** The navigation bar (also embedded in the heatmap page). Trusted HTML: every dynamic part is escaped. */
export function navHtml(opts: NavOptions = {}): string {
  const links = NAV.map(
    (n) => `<a href="${n.href}"${n.id === opts.active ? ' aria-current="page"' : ''}>${escapeHtml(n.label)}</a>`,
  ).join('');
  const ro = opts.readOnly ? '<span class="ivr-badge" title="DASHBOARD_READ_ONLY: every state-changing action is refused">read-only</span>' : '';
  const out = opts.signOut
    ? `<form method="post" action="/admin/sign-out" class="ivr-signout"><button type="submit">Sign out</button></form>`
    : '';
  return `<nav class="ivr-nav" aria-label="Dashboard"><a class="ivr-brand" href="/admin">IVR console</a><div class="ivr-links">${links}</div>${ro}${out}</nav>`;
}

/** CSS of the navigation bar: shared by the console pages and the heatmap page. */
export const NAV_CSS = `
  .ivr-nav { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 16px; background: #1d2433; color: #fff; padding: 8px 16px; font: 14px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
  .ivr-nav a { color: #dfe6f3; text-decoration: none; padding: 6px 8px; border-radius: 4px; }
  .ivr-nav a:hover, .ivr-nav a:focus-visible { background: #33405a; color: #fff; }
  .ivr-nav a[aria-current="page"] { background: #fff; color: #1d2433; font-weight: 600; }
  .ivr-nav .ivr-brand { font-weight: 700; color: #fff; padding-left: 0; }
  .ivr-links { display: flex; flex-wrap: wrap; gap: 2px 4px; }
  .ivr-badge { background: #ffd166; color: #1d2433; border-radius: 10px; padding: 2px 8px; font-size: 12px; font-weight: 600; }
  .ivr-signout { margin: 0 0 0 auto; }
  .ivr-signout button { background: transparent; color: #dfe6f3; border: 1px solid #55627d; border-radius: 4px; padding: 4px 10px; font: inherit; cursor: pointer; }
  @media (max-width: 600px) { .ivr-nav { padding: 6px 8px; gap: 2px 8px; } .ivr-nav a { padding: 6px 6px; } }
`;

const PAGE_CSS = `
  :root { color-scheme: light; }
  * { box-sizing: border-box; }
  body { margin: 0; background: #f3f5f8; color: #1d2433; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
  main { padding: 16px 24px 32px; max-width: 1400px; }
  h1 { font-size: 1.4rem; margin: 4px 0 12px; }
  h2 { font-size: 1.1rem; margin: 0 0 8px; }
  .card { background: #fff; border: 1px solid #dde1e7; border-radius: 8px; padding: 12px 14px; margin: 0 0 16px; overflow-x: auto; }
  .grid { display: grid; gap: 16px; grid-template-columns: repeat(auto-fit, minmax(min(100%, 420px), 1fr)); align-items: start; margin: 0 0 16px; }
  .grid > .card { margin: 0; }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #eef0f3; vertical-align: top; }
  thead th { font-size: .78rem; text-transform: uppercase; letter-spacing: .04em; color: #5b6474; font-weight: 600; }
  tbody th { font-weight: 600; }
  td.num, th.num { text-align: right; }
  .muted { color: #5b6474; }
  .ok { color: #1b7f3b; font-weight: 600; }
  .warn { color: #9a5b00; font-weight: 600; }
  .bad { color: #b3261e; font-weight: 600; }
  .notice { border-left: 4px solid #b3261e; background: #fff4f2; padding: 10px 14px; margin: 0 0 16px; border-radius: 4px; }
  .notice.info { border-color: #2171b5; background: #eef5fc; }
  .stat { font-size: 1.5rem; font-weight: 650; }
  code, pre { background: #eef0f3; border-radius: 4px; }
  code { padding: 1px 5px; word-break: break-all; }
  pre { padding: 8px; overflow-x: auto; white-space: pre-wrap; word-break: break-word; font-size: .85rem; margin: 4px 0; }
  form.inline { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin: 0 0 12px; }
  input[type=text], input[type=search], input[type=password] { font: inherit; padding: 7px 9px; border: 1px solid #aab2bf; border-radius: 4px; min-width: 0; flex: 1 1 260px; max-width: 520px; }
  button, .button { font: inherit; padding: 7px 14px; border-radius: 4px; border: 1px solid #2171b5; background: #2171b5; color: #fff; cursor: pointer; text-decoration: none; display: inline-block; }
  button.secondary, .button.secondary { background: #fff; color: #2171b5; }
  button[disabled] { opacity: .5; cursor: not-allowed; }
  .refresh { font-size: .85rem; color: #5b6474; display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
  .visually-hidden { position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
  dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 4px 12px; margin: 0; }
  dl.kv dt { color: #5b6474; }
  dl.kv dd { margin: 0; word-break: break-word; }
  ol.timeline { list-style: none; padding: 0; margin: 0; }
  ol.timeline > li { border-left: 3px solid #9ecae1; padding: 2px 0 12px 14px; margin-left: 6px; position: relative; }
  ol.timeline > li::before { content: ""; position: absolute; left: -8px; top: 6px; width: 13px; height: 13px; border-radius: 50%; background: #2171b5; }
  ol.timeline > li.fail::before { background: #b3261e; }
  ol.timeline > li.wait::before { background: #9a5b00; }
  @media (max-width: 600px) {
    main { padding: 12px 10px 24px; } th, td { padding: 4px 5px; }
    /* Wide tables become one block per row on a phone: each cell labelled by its column. */
    table.stack thead { display: none; }
    table.stack tr { display: block; border-bottom: 1px solid #dde1e7; padding: 4px 0; }
    table.stack th[scope=row] { display: block; border: 0; padding: 4px 5px 2px; }
    table.stack td { display: flex; justify-content: space-between; gap: 12px; border: 0; padding: 2px 5px; }
    table.stack td::before { content: attr(data-label); color: #5b6474; font-weight: 400; text-align: left; flex: 0 0 auto; }
    table.stack td > * { text-align: right; min-width: 0; word-break: break-word; }
  }
`;

/** Auto-refresh: a small script (pausable, remembered per browser) rather than a meta refresh, so the pause works. */
const REFRESH_SCRIPT = `
(function () {
  var box = document.getElementById('auto-refresh');
  if (!box) return;
  var secs = Number(box.getAttribute('data-seconds')) || 15;
  var key = 'ivr-auto-refresh';
  box.checked = localStorage.getItem(key) !== 'off';
  var left = secs;
  var out = document.getElementById('refresh-countdown');
  box.addEventListener('change', function () { localStorage.setItem(key, box.checked ? 'on' : 'off'); left = secs; tick(); });
  function tick() { if (out) out.textContent = box.checked ? 'next in ' + left + ' s' : 'paused'; }
  tick();
  setInterval(function () {
    if (!box.checked) return;
    left -= 1;
    if (left <= 0) { location.reload(); return; }
    tick();
  }, 1000);
})();
`;

export interface PageOptions extends NavOptions {
  title: string;
  body: string;
  /** Seconds between automatic reloads (a pausable control is shown); omit for none. */
  refreshSeconds?: number | undefined;
}

/** A full console page: nav bar, heading, body (trusted HTML), optional auto-refresh control. */
export function page(opts: PageOptions): string {
  const refresh = opts.refreshSeconds
    ? `<div class="refresh"><label><input type="checkbox" id="auto-refresh" data-seconds="${opts.refreshSeconds}" checked> Auto-refresh every ${opts.refreshSeconds} s</label><span id="refresh-countdown" aria-live="off"></span><span>Updated <time datetime="${new Date().toISOString()}">${escapeHtml(new Date().toISOString().slice(11, 19))} UTC</time></span></div>`
    : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(opts.title)} · IVR console</title>
<style>${NAV_CSS}${PAGE_CSS}</style>
</head>
<body>
${navHtml(opts)}
<main>
<h1>${escapeHtml(opts.title)}</h1>
${refresh}
${opts.body}
</main>
${opts.refreshSeconds ? `<script>${REFRESH_SCRIPT}</script>` : ''}
</body>
</html>
`;
}

/** "3 s", "4 min 10 s", "2 h 5 min", "3 d 4 h": ages and durations for operators. */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min${s % 60 ? ` ${s % 60} s` : ''}`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h${m % 60 ? ` ${m % 60} min` : ''}`;
  return `${Math.floor(h / 24)} d${h % 24 ? ` ${h % 24} h` : ''}`;
}

/** An ISO time as "2024-05-01 09:00:00 UTC" inside a <time> element. */
export function timeHtml(iso: string | null | undefined): string {
  if (!iso) return '<span class="muted">—</span>';
  return `<time datetime="${escapeHtml(iso)}">${escapeHtml(iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ''))} UTC</time>`;
}

export { escapeHtml };
