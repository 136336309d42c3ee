/**
 * Log messages are constant strings (issue 17): a message built from variable data cannot be grouped or counted, and
 * client-chosen strings must never become message text. This reads every source file of the apps, packages and
 * scripts with the TypeScript parser and checks each `<something log-like>.info|warn|error|debug|fatal|trace(...)`
 * call: its message argument must be a string literal (the variable parts go in the object argument).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const LEVELS = new Set(['info', 'warn', 'error', 'debug', 'fatal', 'trace']);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (name === 'node_modules' || name.startsWith('.')) return [];
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') && !p.endsWith('.test.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

/** `file:line: call` for every log call whose message is not a literal. */
function nonConstantMessages(file: string, text: string): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (n: ts.Node) => {
    if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression) && LEVELS.has(n.expression.name.text) && /log/i.test(n.expression.expression.getText(sf))) {
      const a = n.arguments;
      const msg = a.length >= 2 ? a[1] : a[0];
      const onlyObject = a.length === 1 && msg !== undefined && ts.isObjectLiteralExpression(msg);
      if (msg && !onlyObject && !ts.isStringLiteral(msg) && !ts.isNoSubstitutionTemplateLiteral(msg)) {
        found.push(`${relative(root, file)}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}: ${n.getText(sf).slice(0, 120)}`);
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return found;
}

describe('log messages', () => {
  it('the check finds a template-literal or computed message', () => {
    const bad = "log.info({ port }, `listening on ${url}`); logger.warn({}, err.message); log.error('x' + id); log.info({ url }, 'listening');";
    expect(nonConstantMessages('sample.ts', bad)).toHaveLength(3);
  });

  it('every log call in apps/, packages/ and scripts/ has a constant message', () => {
    const files = ['apps', 'packages', 'scripts'].flatMap((d) => sources(join(root, d)));
    expect(files.length).toBeGreaterThan(50);
    const offenders = files.flatMap((f) => nonConstantMessages(f, readFileSync(f, 'utf8')));
    expect(offenders).toEqual([]);
  });
});
