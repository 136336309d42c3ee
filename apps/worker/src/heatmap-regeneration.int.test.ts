/** The heatmap regeneration policy with the real embedded store (real Redis) and real files. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from 'pino';
import { createEmbeddedStore, type DecisionDoc } from '@ivr/reporting';
import { makeDoc } from '@ivr/reporting/fixtures';
import { testRedis } from '@ivr/testing';
import { HEATMAP_REGENERATION_MS, heatmapRegeneration } from './heatmap-regeneration';

describe('heatmapRegeneration (real embedded store, real files)', () => {
  let t: ReturnType<typeof testRedis>;
  let dir: string;
  let lines: Array<{ level: string; msg: string; fields: Record<string, unknown> }>;
  const log = (level: string) => (fields: Record<string, unknown>, msg: string) => void lines.push({ level, msg, fields });
  const logger = () => ({ debug: log('debug'), warn: log('warn') }) as unknown as Logger;

  beforeEach(() => {
    t = testRedis('regen');
    dir = mkdtempSync(join(tmpdir(), 'ivr-regen-'));
    lines = [];
  });
  afterEach(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t.cleanup();
  });

  it('calls within one interval coalesce into one run; a later call is never lost (flush runs it)', async () => {
    expect(HEATMAP_REGENERATION_MS).toBe(2000);
    const store = createEmbeddedStore(t.redis, t.prefix);
    await store.writeBatch([makeDoc(1), makeDoc(2)] as DecisionDoc[]);
    const regenerate = heatmapRegeneration(store, dir, logger());
    for (let i = 0; i < 5; i++) regenerate();
    await regenerate.flush();
    expect(lines).toEqual([{ level: 'debug', msg: 'heatmap regenerated', fields: { path: join(dir, 'heatmap.html'), decisions: 2 } }]);
    expect(readFileSync(join(dir, 'heatmap.html'), 'utf8')).toContain('<html');

    await store.writeBatch([makeDoc(3)] as DecisionDoc[]);
    regenerate(); // inside the interval of the last run: waits for its end, unless flushed
    await regenerate.flush();
    expect(lines.map((l) => l.fields.decisions)).toEqual([2, 3]);
  });

  it('a run that fails is logged as a warning with the reason, and nothing throws', async () => {
    const notADir = join(dir, 'file');
    writeFileSync(notADir, 'x');
    const regenerate = heatmapRegeneration(createEmbeddedStore(t.redis, t.prefix), notADir, logger());
    regenerate();
    await regenerate.flush();
    expect(lines).toMatchObject([{ level: 'warn', msg: 'heatmap regeneration failed', fields: { err: expect.stringMatching(/EEXIST|ENOTDIR/) } }]);
  });
});
