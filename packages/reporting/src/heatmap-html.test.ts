import { describe, expect, it } from 'vitest';
import { COLORSCALE, colorbarTicks, contrastRatio, describeStoreSource, formatSpan, formatUtc, heatmapFigure, renderHeatmapHtml, scaleColour } from './heatmap-html';
import { AGENT_BUCKETS, HOURS, emptyHeatmap, emptyWaitView } from './matrix';
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
    overTime: null,
    latency: null,
    wait: emptyWaitView(),
  };
}

interface ChartJson {
  id: string;
  max: number;
  zmax: number;
  trace: {
    z: number[][];
    x: string[];
    y: string[];
    zmin: number;
    zmax: number;
    zauto: boolean;
    text: string[][];
    texttemplate: string;
    textfont: { size: number };
    customdata: string[][][];
    hovertemplate: string;
  };
  layout: { title?: unknown; height: number; xaxis: { tickangle: number; automargin: boolean }; yaxis: { automargin: boolean } };
}

function dataBlock(html: string): any {
  const m = html.match(/<script type="application\/json" id="heatmap-data">([\s\S]*?)<\/script>/);
  expect(m).not.toBeNull();
  return JSON.parse(m![1]!);
}

const chart = (html: string, id: string): ChartJson => {
  const c = (dataBlock(html).charts as ChartJson[]).find((x) => x.id === id);
  expect(c, id).toBeDefined();
  return c!;
};

/** The page without its <script> elements: what the reader sees as HTML. */
const visibleHtml = (html: string) => html.replace(/<script\b[\s\S]*?<\/script>/gi, '');

describe('renderHeatmapHtml', () => {
  const html = renderHeatmapHtml(sample(), {
    title: 'Decisions',
    generatedAt: '2024-03-03T00:00:00.000Z',
    source: 'Elasticsearch index genesys_flow_decisions',
  });

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

  it('has the three heatmap divs, each titled once (a visible heading, no Plotly title)', () => {
    for (const id of ['heatmap-dtmf', 'heatmap-hour', 'heatmap-agents']) {
      expect(html).toContain(`id="${id}"`);
      expect(chart(html, id).layout.title).toBeUndefined();
    }
    const page = visibleHtml(html);
    for (const heading of ['DTMF pressed × routing decision', 'Hour of day (UTC) × routing decision', 'Available agents × routing decision']) {
      expect(page.match(new RegExp(`<h2[^>]*>${heading.replace(/[()]/g, '\\$&')}</h2>`, 'g'))?.length, heading).toBe(1);
    }
    // The only visually hidden content is each chart's data table (its caption repeats the heading for screen readers).
    expect(page.replace(/<div class="visually-hidden"><table[\s\S]*?<\/table><\/div>|<style>[\s\S]*?<\/style>/g, '')).not.toContain('visually-hidden');
  });

  it('puts a hidden data table and PNG/CSV/JSON export buttons under each chart', () => {
    for (const id of ['heatmap-dtmf', 'heatmap-hour', 'heatmap-agents']) {
      const table = new RegExp(`<div class="visually-hidden"><table id="${id}-table">([\\s\\S]*?)</table>`).exec(html)?.[1];
      expect(table, id).toBeTruthy();
      for (const k of ['png', 'csv', 'json']) expect(html).toContain(`data-export="${k}" data-chart="${id}"`);
    }
    const dtmf = /<table id="heatmap-dtmf-table">([\s\S]*?)<\/table>/.exec(html)![1]!;
    expect(dtmf).toContain('<th scope="row">1</th><td>7</td><td>1</td>');
    expect(dataBlock(html).tables['heatmap-dtmf']).toEqual({ rowTitle: 'DTMF pressed', rows: ['1', '2'], cols: ['Agent queue', 'Voicemail'], counts: [[7, 1], [1, 3]] });
  });

  it('labels the fail-open row "unknown (Genesys unavailable)" and draws decisions over time when a series is given', () => {
    const d = sample();
    d.agentsByRoute = { rows: [...AGENT_BUCKETS, 'unknown'], cols, counts: [[0, 4], [0, 0], [1, 0], [3, 0], [4, 0], [0, 0], [2, 0]] };
    d.overTime = { bucketMs: 3600_000, rows: ['2024-03-01T09:00:00.000Z', '2024-03-01T10:00:00.000Z'], cols, counts: [[5, 1], [0, 2]] };
    const page = renderHeatmapHtml(d, { range: { from: '2024-03-01T09:00:00Z', to: '2024-03-01T11:00:00Z' } });
    expect(chart(page, 'heatmap-agents').trace.y.at(-1)).toBe('unknown (Genesys unavailable)');
    expect(page).toContain('Decisions per 1 h bucket');
    const time = (dataBlock(page).charts as Array<{ id: string; traces?: Array<{ x: string[]; y: number[]; type: string }> }>).find((c) => c.id === 'heatmap-time')!;
    expect(time.traces!.map((t) => [t.type, t.y])).toEqual([['bar', [5, 0]], ['bar', [1, 2]]]);
    expect(page).toContain('data-field="fail-open"');
  });

  it('an error is shown instead of charts, with the controls to fix it', () => {
    const page = renderHeatmapHtml(sample(), {
      error: 'from: "last-hour" is not a time',
      controls: { action: '/admin/heatmap', from: 'last-hour', to: 'now', presets: [{ label: '1 h', href: '/admin/heatmap?range=1h', active: false }] },
    });
    expect(page).toContain('id="heatmap-error"');
    expect(page).toContain('&quot;last-hour&quot; is not a time');
    expect(page).toContain('value="last-hour"');
    expect(page).not.toContain('id="heatmap-dtmf"');
    expect(page).not.toContain('data-field="total"'); // no misleading "0 decisions" next to the error
  });

  it('colour scale runs from 0 to the chart’s own maximum count (zauto off)', () => {
    const d = dataBlock(html);
    const maxOf = (z: number[][]) => Math.max(...z.flat());
    for (const c of (d.charts as ChartJson[]).filter((x) => x.trace)) {
      expect(c.trace.zauto).toBe(false);
      expect(c.trace.zmin).toBe(0);
      expect(c.trace.zmax).toBe(maxOf(c.trace.z));
      expect(c.max).toBe(c.trace.zmax);
    }
    // and those maxima are the data's: 7 (DTMF 1 → queue), 6 (09h → queue), 4 (two cells)
    expect(chart(html, 'heatmap-dtmf').trace.zmax).toBe(7);
    expect(chart(html, 'heatmap-hour').trace.zmax).toBe(6);
    expect(chart(html, 'heatmap-agents').trace.zmax).toBe(4);
  });

  it('labels both ends of the colour bar (0 and the maximum)', () => {
    for (const c of (dataBlock(html).charts as Array<ChartJson & { trace: { colorbar: { tickvals: number[] } } }>).filter((x) => x.trace)) {
      const ticks = c.trace.colorbar.tickvals;
      expect(ticks[0]).toBe(0);
      expect(ticks.at(-1)).toBe(c.trace.zmax);
    }
    for (const z of [1, 7, 75, 399, 1234]) {
      const t = colorbarTicks(z);
      expect([t[0], t.at(-1)]).toEqual([0, z]);
      expect(t.length).toBeLessThanOrEqual(5);
      expect([...t].sort((a, b) => a - b)).toEqual(t);
      expect(new Set(t).size).toBe(t.length);
    }
  });

  it('a chart whose counts are all zero still gets a usable colour range', () => {
    const f = heatmapFigure({ yTitle: 'DTMF pressed', rowNoun: (r) => `calls with DTMF ${r}`, rowPx: 40, matrix: { rows: ['1'], cols, counts: [[0, 0]] } });
    expect(f.max).toBe(0);
    expect(f.trace.zmin).toBe(0);
    expect(f.trace.zmax).toBe(1);
  });

  it('labels routes short and flat on the axis, with the raw route names in the hover text', () => {
    for (const id of ['heatmap-dtmf', 'heatmap-hour', 'heatmap-agents']) {
      const c = chart(html, id);
      expect(c.trace.x).toEqual(['Agent queue', 'Voicemail']);
      expect(c.layout.xaxis.tickangle).toBe(0);
      expect(c.layout.xaxis.automargin).toBe(true);
      expect(c.layout.yaxis.automargin).toBe(true);
      expect(c.trace.hovertemplate).toContain('%{customdata[0]}');
      expect(c.trace.customdata.map((row) => row.map((cell) => cell[0]))[0]).toEqual(['Agent queue (route_to_queue)', 'Voicemail (route_to_vm)']);
    }
  });

  it('cells show count and share of the row, in readable text that contrasts with the cell colour', () => {
    const c = chart(html, 'heatmap-dtmf');
    expect(c.trace.texttemplate).toBe('%{text}');
    expect(c.trace.textfont.size).toBeGreaterThanOrEqual(13);
    // DTMF 1: 7 of 8 to the queue (88%), 1 of 8 to voicemail (13%); DTMF 2: 1 of 4 (25%), 3 of 4 (75%)
    const shares = c.trace.customdata.map((row) => row.map((cell) => cell[1]));
    expect(shares).toEqual([
      ['88% of the 8 calls with DTMF 1', '13% of the 8 calls with DTMF 1'],
      ['25% of the 4 calls with DTMF 2', '75% of the 4 calls with DTMF 2'],
    ]);
    expect(c.trace.text[0]![0]).toMatch(/<b>7<\/b>.*88%/);
    expect(c.trace.text[1]![1]).toMatch(/<b>3<\/b>.*75%/);

    // The text colour is chosen per cell: check it against the colour Plotly paints for every count 0..max.
    const max = 23;
    const f = heatmapFigure({
      yTitle: 'DTMF pressed',
      rowNoun: (r) => `calls with DTMF ${r}`,
      rowPx: 30,
      matrix: { rows: Array.from({ length: max + 1 }, (_, i) => String(i)), cols, counts: Array.from({ length: max + 1 }, (_, i) => [i, max - i]) },
    });
    expect(f.trace.zmax).toBe(max);
    expect(f.trace.colorscale).toEqual(COLORSCALE.map(([t, col]) => [t, col]));
    f.trace.z.forEach((row, i) =>
      row.forEach((v, j) => {
        const colour = /color:(#[0-9a-f]{6})/i.exec(f.trace.text[i]![j]!)?.[1];
        expect(colour, `text colour of cell ${i},${j}`).toBeDefined();
        const cell = scaleColour(COLORSCALE, v / f.trace.zmax);
        // zero cells are deliberately muted; every non-zero count meets WCAG AA (4.5:1)
        expect(contrastRatio(colour!, cell), `count ${v} on ${cell}`).toBeGreaterThanOrEqual(v === 0 ? 3 : 4.5);
      }),
    );
  });

  it('scaleColour interpolates between the stops', () => {
    expect(scaleColour(COLORSCALE, 0)).toBe('#f3f5f8');
    expect(scaleColour(COLORSCALE, 1)).toBe('#08306b');
    expect(scaleColour(COLORSCALE, 0.5)).toBe('#4292c6');
    expect(scaleColour([[0, '#000000'], [1, '#ffffff']], 0.5)).toBe('#808080');
  });

  it('puts the counts in the JSON data block and per-route totals in the header', () => {
    const d = dataBlock(html);
    expect(d.total).toBe(12);
    expect(d.data.dtmfByRoute.counts).toEqual([[7, 1], [1, 3]]);
    expect(d.charts.map((c: { id: string }) => c.id)).toEqual(['heatmap-dtmf', 'heatmap-hour', 'heatmap-agents', 'heatmap-wait']);
    expect(d.routeTotals).toEqual({ route_to_queue: 8, route_to_vm: 4 });
    expect(html).toContain('data-field="total">12</dd>');
    expect(html).toContain('data-field="route_to_queue">8<small>67%</small></dd>');
    expect(html).toContain('data-field="route_to_vm">4<small>33%</small></dd>');
    expect(html).toContain('2024-03-01 09:00:00 → 2024-03-02 14:25:00 UTC');
  });

  it('has a footer naming the data source and when the page was generated', () => {
    const footer = /<footer id="heatmap-footer">([\s\S]*?)<\/footer>/.exec(html)?.[1] ?? '';
    expect(footer).toContain('Data source: Elasticsearch index genesys_flow_decisions');
    expect(footer).toContain('<time datetime="2024-03-03T00:00:00.000Z">2024-03-03 00:00:00 UTC</time>');
  });

  it('escapes a hostile dtmf and title', () => {
    const evil = '</script><img src=x onerror=alert(1)>';
    const data = sample();
    data.dtmfByRoute.rows[0] = evil;
    const out = renderHeatmapHtml(data, { title: `<b>"x"</b> & ${evil}`, source: evil });
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
    expect(out).not.toContain('No decisions in this time range');
    expect(out).toContain('pnpm demo');
    expect(out).toContain('send a webhook');
    expect(out).not.toContain('id="heatmap-dtmf"');
    expect(out).not.toContain('id="heatmap-hour"');
    expect(out).not.toContain('id="heatmap-agents"');
    expect(dataBlock(out).total).toBe(0);
  });

  it('an empty result for a requested range says so, and shows the range', () => {
    const range = { from: '2001-01-01T00:00:00.000Z', to: '2001-01-02T00:00:00.000Z' };
    const out = renderHeatmapHtml(emptyHeatmap(), { generatedAt: '2024-03-03T00:00:00.000Z', range });
    expect(out).toContain('No decisions in this time range');
    expect(out).not.toContain('No decisions recorded yet');
    expect(visibleHtml(out)).toContain('2001-01-01 00:00:00 → 2001-01-02 00:00:00 UTC');
    expect(dataBlock(out).range).toEqual(range);
    // only one bound given still counts as a range
    expect(renderHeatmapHtml(emptyHeatmap(), { range: { from: range.from } })).toContain('No decisions in this time range');
    // a range with decisions in it renders charts and the requested range in the header
    const full = renderHeatmapHtml(sample(), { range });
    expect(full).toContain('id="heatmap-dtmf"');
    expect(full).toContain('data-field="requested-range"');
  });
});

describe('formatting helpers', () => {
  it('formats UTC times and spans', () => {
    expect(formatUtc('2024-03-01T09:00:00.000Z')).toBe('2024-03-01 09:00:00 UTC');
    expect(formatUtc('nope')).toBe('nope');
    expect(formatSpan('2024-03-01T09:00:00.000Z', '2024-03-01T09:05:30.000Z')).toBe('2024-03-01 09:00:00 → 09:05:30 UTC');
    expect(formatSpan('2024-03-01T09:00:00.000Z', '2024-03-02T10:00:00.000Z')).toBe('2024-03-01 09:00:00 → 2024-03-02 10:00:00 UTC');
    expect(formatSpan(undefined, undefined)).toBe('all time');
    expect(formatSpan('2024-03-01T09:00:00.000Z', undefined)).toBe('since 2024-03-01 09:00:00 UTC');
  });

  it('describes the store a page was read from', () => {
    expect(describeStoreSource({ kind: 'embedded' })).toBe('embedded store (Redis)');
    expect(describeStoreSource({ kind: 'elasticsearch', index: 'genesys_flow_decisions' })).toBe('Elasticsearch index genesys_flow_decisions');
    expect(describeStoreSource({ kind: 'elasticsearch' })).toBe('Elasticsearch');
  });
});
