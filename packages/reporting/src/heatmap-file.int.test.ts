import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testRedis } from '@ivr/testing';
import { createEmbeddedStore } from './embedded-store';
import { knownSet } from './fixtures';
import { writeHeatmapFile } from './heatmap-file';

describe('writeHeatmapFile (embedded store)', () => {
  let t: ReturnType<typeof testRedis>;
  let dir: string;

  beforeEach(async () => {
    t = testRedis('heatmapfile');
    dir = await mkdtemp(join(tmpdir(), 'ivr-heatmap-'));
  });
  afterEach(async () => {
    await t.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes an empty-state page when there are no decisions', async () => {
    const store = createEmbeddedStore(t.redis, t.prefix);
    const out = join(dir, 'nested', 'reports');
    const res = await writeHeatmapFile(store, out);
    expect(res).toEqual({ status: 'empty', path: join(out, 'heatmap.html'), decisions: 0, from: null, to: null });
    expect(await readFile(res.path, 'utf8')).toContain('No decisions recorded yet');
  });

  it('writes the heatmaps atomically to an absolute path, honouring the range', async () => {
    const store = createEmbeddedStore(t.redis, t.prefix);
    await store.writeBatch(knownSet());
    const rel = relative(process.cwd(), dir);
    const res = await writeHeatmapFile(store, rel);
    expect(isAbsolute(res.path)).toBe(true);
    expect(res).toMatchObject({ status: 'ok', decisions: 37, from: '2024-03-01T00:00:00.000Z' });
    const html = await readFile(res.path, 'utf8');
    expect(html).toContain('id="heatmap-dtmf"');
    expect(await readdir(dir)).toEqual(['heatmap.html']); // no temp file left behind

    const ranged = await writeHeatmapFile(store, dir, { from: '2024-03-02T00:00:00Z', to: '2024-03-03T00:00:00Z' });
    expect(ranged.decisions).toBe(12);
    expect(ranged.from?.startsWith('2024-03-02')).toBe(true);
  });
});
