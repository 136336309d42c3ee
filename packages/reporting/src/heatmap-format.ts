import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

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
export function escapeScript(js: string): string {
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

/** Route label for display (the raw name when it has none). */
export const routeLabel = (route: string): string => ROUTE_LABELS[route] ?? route;

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

/** Whole-number percentage, "<1%" for small non-zero shares. */
export function percent(n: number, of: number): string {
  if (of <= 0) return '';
  const p = (100 * n) / of;
  if (n > 0 && p < 1) return '<1%';
  return `${Math.round(p)}%`;
}


/** Bucket width as words: "30 s", "1 min", "3 h", "1 d". */
export function formatBucket(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000} d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Math.round(ms / 1000)} s`;
}

