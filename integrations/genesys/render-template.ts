/**
 * Just enough Velocity to render Genesys data action templates in tests, as the data action service would:
 *
 * - `${a.b}` (formal): the value; when undefined the reference is left as written (Velocity's behaviour).
 * - `$!{a.b}` (silent formal): the value, or '' when undefined.
 * - `$a.b` (shorthand): like formal.
 * - `$esc.jsonString(REF)`: the value with JSON string escaping (quotes not added), as Velocity's EscapeTool
 *   / Apache Commons `escapeJson` does: `"` `\` `/` and control characters.
 * - `$esc.url(REF)`: form-URL encoding.
 *
 * Anything else (directives, other tools) is out of scope and throws, so a template that drifts beyond
 * what is tested cannot silently pass.
 */
export type VelocityContext = Record<string, unknown>;

const PATH = String.raw`[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*`;
const REF = String.raw`\$!?\{${PATH}\}|\$${PATH}`;
const TOOL_RE = new RegExp(String.raw`\$esc\.(jsonString|url)\((${REF})\)`, 'g');
const REF_RE = new RegExp(REF, 'g');

export function renderVelocity(template: string, ctx: VelocityContext): string {
  if (/(^|[^\\])#(set|if|foreach|macro|define|parse|include)\b/.test(template)) {
    throw new Error('Velocity directives are not supported by this renderer');
  }
  // Tools first, so their argument references are not substituted on their own.
  const withTools = template.replace(TOOL_RE, (_all, tool: string, ref: string) => {
    const v = resolveRef(ref, ctx);
    const s = v === undefined ? '' : String(v);
    return tool === 'jsonString' ? escapeJsonString(s) : encodeURIComponent(s).replace(/%20/g, '+');
  });
  if (/\$[a-z]+\.[A-Za-z]+\(/.test(withTools)) {
    throw new Error(`unsupported Velocity tool call in: ${withTools}`);
  }
  return withTools.replace(REF_RE, (ref) => {
    const v = resolveRef(ref, ctx);
    if (v === undefined) return ref.startsWith('$!') ? '' : ref;
    return typeof v === 'object' ? JSON.stringify(v) : String(v);
  });
}

function resolveRef(ref: string, ctx: VelocityContext): unknown {
  const path = ref.replace(/^\$!?\{?/, '').replace(/\}$/, '');
  let cur: unknown = ctx;
  for (const part of path.split('.')) {
    if (typeof cur !== 'object' || cur === null || !(part in cur)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Apache Commons Text `StringEscapeUtils.escapeJson` (what Velocity's `$esc.jsonString` calls). */
export function escapeJsonString(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '/') out += '\\/';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) out += `\\u${c.toString(16).padStart(4, '0').toUpperCase()}`;
    else out += ch;
  }
  return out;
}

/**
 * The response side: each translationMap entry is a JSONPath (only `$.a.b` and `$.a[0]` here) applied to
 * the raw result; found values are JSON-encoded (a string keeps its quotes), missing ones take the
 * translationMapDefaults text as is; then successTemplate is rendered with those values.
 */
export function renderSuccess(
  response: { translationMap: Record<string, string>; translationMapDefaults: Record<string, string>; successTemplate: string },
  rawResult: unknown,
): string {
  const vars: Record<string, string> = {};
  for (const [name, path] of Object.entries(response.translationMap)) {
    const found = jsonPath(rawResult, path);
    if (found !== undefined) vars[name] = JSON.stringify(found);
    else if (name in response.translationMapDefaults) vars[name] = response.translationMapDefaults[name] as string;
    else throw new Error(`translationMap "${name}" (${path}) found nothing and has no default: the action would fail`);
  }
  return renderVelocity(response.successTemplate, { ...vars, rawResult: JSON.stringify(rawResult) });
}

export function jsonPath(doc: unknown, path: string): unknown {
  if (!path.startsWith('$')) throw new Error(`not a JSONPath: ${path}`);
  const steps = path.slice(1).match(/\.[A-Za-z_][A-Za-z0-9_-]*|\[\d+\]/g) ?? [];
  if (steps.join('') !== path.slice(1)) throw new Error(`JSONPath beyond this renderer: ${path}`);
  let cur: unknown = doc;
  for (const step of steps) {
    if (cur === null || typeof cur !== 'object') return undefined;
    const key = step.startsWith('[') ? Number(step.slice(1, -1)) : step.slice(1);
    cur = (cur as Record<string | number, unknown>)[key];
    if (cur === undefined) return undefined;
  }
  return cur;
}
