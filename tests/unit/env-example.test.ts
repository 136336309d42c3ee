import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '@ivr/config';

const root = new URL('../../', import.meta.url);
const read = (p: string) => readFileSync(new URL(p, root), 'utf8');

/** Every key of `envSchema = z.object({...})` in packages/config/src/config.ts: what loadConfig reads. */
function configKeys(): string[] {
  const src = read('packages/config/src/config.ts');
  const block = /export const envSchema = z\.object\(\{([\s\S]*?)\n\}\);/.exec(src)?.[1];
  if (!block) throw new Error('envSchema = z.object({...}) not found in packages/config/src/config.ts');
  return [...block.matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1] as string);
}

/** dotenv subset: KEY=value lines, # comments, optional matching quotes. Throws on anything else. */
function parseDotenv(text: string): { values: Record<string, string>; comments: Map<string, string> } {
  const values: Record<string, string> = {};
  const comments = new Map<string, string>();
  let lastComment = '';
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return void (lastComment = '');
    if (line.startsWith('#')) return void (lastComment = line.replace(/^#\s*/, ''));
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new Error(`.env.example line ${i + 1} is not KEY=value: ${raw}`);
    const key = m[1] as string;
    if (key in values) throw new Error(`.env.example sets ${key} twice`);
    values[key] = (m[2] as string).replace(/^(['"])(.*)\1$/, '$2');
    comments.set(key, lastComment);
    lastComment = '';
  });
  return { values, comments };
}

const UPCOMING = ['RECORD_PATH', 'RECEIVER_WORKERS', 'WORKER_PROCESSES'];
const example = parseDotenv(read('.env.example'));

describe('.env.example', () => {
  const keys = configKeys();

  it('finds the config schema', () => {
    expect(keys.length).toBeGreaterThan(30);
    expect(keys).toEqual(expect.arrayContaining(['REDIS_URL', 'GENESYS_CLIENT_ID', 'WEBHOOK_TOKEN', 'LOG_LEVEL']));
  });

  it('lists every variable the config reads, plus the upcoming ones', () => {
    const missing = [...keys, ...UPCOMING].filter((k) => !(k in example.values));
    expect(missing).toEqual([]);
  });

  it('lists nothing the config does not read', () => {
    const known = new Set([...keys, ...UPCOMING]);
    expect(Object.keys(example.values).filter((k) => !known.has(k))).toEqual([]);
  });

  it('documents every variable with a one-line comment', () => {
    const bare = Object.keys(example.values).filter((k) => !example.comments.get(k));
    expect(bare).toEqual([]);
  });

  it('is accepted by loadConfig as is', () => {
    const config = loadConfig(example.values);
    expect(config.REDIS_URL).toBe(example.values['REDIS_URL']);
    expect(config.useSimulator).toBe(true); // no credentials in an example
  });

  it('shows the schema defaults (the compose-specific GENESYS_API_BASE aside)', () => {
    const defaults = loadConfig({});
    const differs = keys.filter((k) => {
      if (k === 'GENESYS_API_BASE') return false;
      const v = example.values[k] ?? '';
      const d = (defaults as unknown as Record<string, unknown>)[k];
      const shown = d === undefined ? '' : Array.isArray(d) ? d.join(',') : String(d);
      return v !== shown;
    });
    expect(differs).toEqual([]);
  });

  it('holds no secrets', () => {
    for (const k of ['GENESYS_CLIENT_SECRET', 'WEBHOOK_SECRET', 'WEBHOOK_TOKEN', 'ADMIN_TOKEN', 'ELASTICSEARCH_PASSWORD', 'ELASTICSEARCH_API_KEY']) {
      expect(example.values[k], k).toBe('');
    }
  });

  it('a bad example value is rejected by loadConfig (the check can fail)', () => {
    expect(() => loadConfig({ ...example.values, DEFAULT_ROUTE: 'route_to_mars' })).toThrow(/DEFAULT_ROUTE/);
    expect(() => parseDotenv('not a line')).toThrow();
  });
});
