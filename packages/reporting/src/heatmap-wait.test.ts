import { describe, expect, it } from 'vitest';
import { waitSet } from './contract-wait';
import { expectedWait } from './contract-expected';
import { renderHeatmapHtml } from './heatmap-html';
import { waitCellText, waitFigure } from './heatmap-wait';
import { emptyHeatmap } from './matrix';

const view = expectedWait(waitSet());

describe('estimated-wait view', () => {
  it('draws the mean wait per cell; cells without a figure are a separate grey layer, never a 0', () => {
    const { traces } = waitFigure(view);
    const [noFigure, wait] = traces as unknown as [{ z: Array<Array<number | null>> }, { z: Array<Array<number | null>>; zmax: number }];
    expect(wait.z[0]![9]).toBe(62.8);
    expect(wait.z[0]![10]).toBeNull(); // DTMF 1 at 10:00: a decision, no figure
    expect(noFigure.z[0]![10]).toBe(1);
    expect(wait.z[1]![23]).toBe(0); // a real 0 s wait is drawn as 0
    expect(noFigure.z[1]![23]).toBeNull();
    expect(noFigure.z[0]![0]).toBeNull(); // no decision: nothing
    expect(wait.zmax).toBe(200);
  });

  it('says each cell in words (hover, hidden table, CSV)', () => {
    expect(waitCellText(view, 0, 9)).toBe('62.8 s mean over 2 of 2 decisions; 1 sent to voicemail by maxEstimatedWaitS');
    expect(waitCellText(view, 0, 10)).toBe('no figure (1 decision)');
    expect(waitCellText(view, 0, 0)).toBe('');
  });

  it('is a section of the heatmap page with its table, tiles and a link from the page header', () => {
    const html = renderHeatmapHtml({ ...emptyHeatmap(), total: 7, from: '2024-03-01T09:00:00.000Z', to: '2024-03-03T10:05:00.000Z', wait: view });
    expect(html).toContain('id="sec-heatmap-wait"');
    expect(html).toContain('href="#sec-heatmap-wait"');
    expect(html).toContain('<td>no figure (1 decision)</td>');
    expect(html).toContain('4 of 7 decisions had Genesys&#39; estimated wait (mean 81.4 s); 2 went to voicemail');
    expect(html).toMatch(/data-field="wait-mean">81.4 s<small>4 of 7 with a figure/);
    expect(html).toMatch(/data-field="wait-rule">2</);
  });

  it('a range without any figure says so instead of showing waits of 0', () => {
    const none = expectedWait(waitSet().map(({ estimatedWaitS: _w, ...d }) => d));
    const html = renderHeatmapHtml({ ...emptyHeatmap(), total: 7, wait: none });
    expect(html).toContain('None of the 7 decisions had an estimated wait figure');
    expect(html).not.toContain('data-field="wait-mean"');
    expect((waitFigure(none).traces[1] as { z: unknown[][] }).z.flat().every((v) => v === null)).toBe(true);
    // decisions stored before the view (embedded store): no wait fields at all
    expect(renderHeatmapHtml({ ...emptyHeatmap(), total: 3 })).toContain('No decision in range carries estimated-wait fields');
  });
});
