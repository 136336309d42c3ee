import { describe, expect, it } from 'vitest';
import { renderHeatmapHtml } from './heatmap-html';
import { AGENT_BUCKETS, HOURS, emptyHeatmap } from './matrix';
import type { HeatmapData } from './store';

const cols = ['route_to_queue', 'route_to_vm'];

function sample(): HeatmapData {
  return {
    total: 12,
    from: '2024-03-01T09:00:00.000Z',
    to: '2024-03-02T14:25:00.000Z',
    dtmfByRoute: { rows: ['1', '2'], cols, counts: [[7, 1], [1, 3]] },
    hourByRoute: { rows: [...HOURS], cols, counts: HOURS.map((h) => (h === '09' ? [6, 2] : h === '14' ? [2, 2] : [0, 0])) },
    agentsByRoute: { rows: [...AGENT_BUCKETS], cols, counts: [[0, 4], [0, 0], [1, 0], [3, 0], [4, 0], [0, 0]] },
  };
}

function dataBlock(html: string): any {
  const m = html.match(/<script type="application\/json" id="heatmap-data">([\s\S]*?)<\/script>/);
  expect(m).not.toBeNull();
  return JSON.parse(m![1]!);
}

describe('renderHeatmapHtml', () => {
  const html = renderHeatmapHtml(sample(), { title: 'Decisions', generatedAt: '2024-03-03T00:00:00.000Z' });

  it('is one self-contained file with plotly inlined', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script[^>]*\bsrc=/i);
    expect(html).not.toMatch(/<link[^>]*\bhref=/i);
    expect(html.length).toBeGreaterThan(1_000_000); // plotly.min.js is inside
    expect(html).toContain('Plotly');
    // exactly the scripts we opened are closed: inlined code cannot end the element early
    const opens = html.match(/<script\b/gi)?.length ?? 0;
    const closes = html.match(/<\/script/gi)?.length ?? 0;
    expect(opens).toBe(closes);
  });

  it('has the three heatmap divs, titles, axis labels and annotated cells', () => {
    for (const id of ['heatmap-dtmf', 'heatmap-hour', 'heatmap-agents']) expect(html).toContain(`id="${id}"`);
    expect(html).toContain('DTMF pressed');
    expect(html).toContain('Routing decision');
    expect(html).toContain('Available agents');
    expect(html).toContain("texttemplate: '%{z}'");
  });

  it('puts the counts in the JSON data block and the header', () => {
    const d = dataBlock(html);
    expect(d.total).toBe(12);
    expect(d.data.dtmfByRoute.counts).toEqual([[7, 1], [1, 3]]);
    expect(d.charts.map((c: { id: string }) => c.id)).toEqual(['heatmap-dtmf', 'heatmap-hour', 'heatmap-agents']);
    expect(d.routeTotals).toEqual({ route_to_queue: 8, route_to_vm: 4 });
    expect(html).toContain('>12</dd>');
    expect(html).toContain('2024-03-01T09:00:00.000Z → 2024-03-02T14:25:00.000Z');
    expect(html).toContain('2024-03-03T00:00:00.000Z');
    expect(html).toContain('>8</dd>');
    expect(html).toContain('>4</dd>');
  });

  it('escapes a hostile dtmf and title', () => {
    const evil = '</script><img src=x onerror=alert(1)>';
    const data = sample();
    data.dtmfByRoute.rows[0] = evil;
    const out = renderHeatmapHtml(data, { title: `<b>"x"</b> & ${evil}` });
    expect(out).not.toContain('<img src=x');
    expect(out).not.toContain('<b>"x"</b>');
    expect(out).toContain('&lt;b&gt;&quot;x&quot;&lt;/b&gt; &amp;');
    const d = dataBlock(out);
    expect(d.data.dtmfByRoute.rows[0]).toBe(evil);
    expect(d.title).toContain('<b>');
  });

  it('shows an empty state instead of blank charts', () => {
    const out = renderHeatmapHtml(emptyHeatmap(), { generatedAt: '2024-03-03T00:00:00.000Z' });
    expect(out).toContain('No decisions recorded yet');
    expect(out).toContain('pnpm demo');
    expect(out).toContain('send a webhook');
    expect(out).not.toContain('id="heatmap-dtmf"');
    expect(out).not.toContain('id="heatmap-hour"');
    expect(out).not.toContain('id="heatmap-agents"');
    expect(dataBlock(out).total).toBe(0);
  });
});
