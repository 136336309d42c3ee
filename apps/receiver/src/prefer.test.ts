import { describe, expect, it } from 'vitest';
import { preferWaitMs } from './prefer';

describe('preferWaitMs (RFC 7240 Prefer: wait=N)', () => {
  it.each([
    [undefined, 0],
    ['', 0],
    ['wait=2', 2000],
    ['WAIT = 1.5', 1500],
    ['respond-async, wait=3', 3000],
    ['handling=lenient; wait="0.25"', 250],
    ['wait=600', 10_000],
    ['wait=abc', 0],
    ['nowait=5', 0],
    ['return=minimal', 0],
  ])('%j -> %i ms', (header, ms) => {
    expect(preferWaitMs(header)).toBe(ms);
  });

  it('caps at the given maximum', () => {
    expect(preferWaitMs('wait=5', 2000)).toBe(2000);
    expect(preferWaitMs('wait=1', 2000)).toBe(1000);
  });
});
