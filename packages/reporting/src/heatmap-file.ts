import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describeStoreSource, renderHeatmapHtml } from './heatmap-html';
import type { DecisionStore, HeatmapQuery } from './store';

export interface HeatmapFileResult {
  status: 'ok' | 'empty';
  /** Absolute path of the written file. */
  path: string;
  decisions: number;
  from: string | null;
  to: string | null;
}

/** Query the store and write `${dir}/heatmap.html` atomically (temp file + rename), creating `dir` if needed. */
export async function writeHeatmapFile(store: DecisionStore, dir: string, query?: HeatmapQuery): Promise<HeatmapFileResult> {
  const data = await store.heatmap(query);
  const html = renderHeatmapHtml(data, { source: describeStoreSource(store), ...(query ? { range: query } : {}) });
  const absDir = resolve(dir);
  await mkdir(absDir, { recursive: true });
  const path = resolve(absDir, 'heatmap.html');
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, html, 'utf8');
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return { status: data.total === 0 ? 'empty' : 'ok', path, decisions: data.total, from: data.from, to: data.to };
}
