import { describe, expect, it } from 'vitest';
import { formatServerTiming, parseServerTiming } from './server-timing';

describe('Server-Timing', () => {
  it('formats the stages in the order given, in ms with microsecond precision', () => {
    expect(formatServerTiming([['read', 0.0614], ['store', 0.18349], ['decide', 1.5], ['total', 2.25]])).toBe('read;dur=0.061, store;dur=0.183, decide;dur=1.500, total;dur=2.250');
  });

  it('leaves out a duration that is negative or not a number (a clock that was not read)', () => {
    expect(formatServerTiming([['read', -1], ['store', NaN], ['wait', 3], ['total', Infinity]])).toBe('wait;dur=3.000');
  });

  it('parses what it formats, and skips entries without a duration', () => {
    expect(parseServerTiming(formatServerTiming([['store', 0.25], ['total', 1]]))).toEqual({ store: 0.25, total: 1 });
    expect(parseServerTiming('cache;desc="hit", db;dur=53.2, miss, app;desc=x;dur=4')).toEqual({ db: 53.2, app: 4 });
    expect(parseServerTiming(undefined)).toEqual({});
  });
});
