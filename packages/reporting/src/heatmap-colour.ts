// Colour scale: an almost-white "nothing here" at 0 up to a dark blue at the chart's maximum.
export const COLORSCALE: ReadonlyArray<readonly [number, string]> = [
  [0, '#f3f5f8'],
  [0.0001, '#deebf7'],
  [0.25, '#9ecae1'],
  [0.5, '#4292c6'],
  [0.75, '#2171b5'],
  [1, '#08306b'],
];
const TEXT_DARK = '#000000';
const TEXT_LIGHT = '#ffffff';
/** Zero cells: muted, they are the background of the picture. */
export const TEXT_MUTED = '#7d8696';

const hexRgb = (hex: string): [number, number, number] => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];

/** The colour `scale` gives t in [0, 1], interpolated in RGB between stops as Plotly does. */
export function scaleColour(scale: ReadonlyArray<readonly [number, string]>, t: number): string {
  const x = Math.min(1, Math.max(0, t));
  for (let i = 1; i < scale.length; i++) {
    const [t1, c1] = scale[i]!;
    const [t0, c0] = scale[i - 1]!;
    if (x <= t1) {
      const f = t1 === t0 ? 1 : (x - t0) / (t1 - t0);
      const a = hexRgb(c0);
      const b = hexRgb(c1);
      return `#${a.map((v, k) => Math.round(v * (1 - f) + b[k]! * f).toString(16).padStart(2, '0')).join('')}`;
    }
  }
  return scale[scale.length - 1]![1];
}

/** WCAG relative luminance of #rrggbb. */
export function luminance(hex: string): number {
  const [r, g, b] = hexRgb(hex).map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG contrast ratio of two #rrggbb colours (1..21). */
export function contrastRatio(a: string, b: string): number {
  const la = luminance(a);
  const lb = luminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

/** Black or white, whichever reads better on `background`. */
export function textColourOn(background: string): string {
  return contrastRatio(TEXT_DARK, background) >= contrastRatio(TEXT_LIGHT, background) ? TEXT_DARK : TEXT_LIGHT;
}

/** 0, the maximum and up to three round values in between, for the colour bar. */
export function colorbarTicks(zmax: number): number[] {
  const raw = zmax / 4;
  const mag = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks = [0];
  for (let v = step; v < zmax - step / 2; v += step) ticks.push(Math.round(v));
  ticks.push(zmax);
  return ticks;
}

