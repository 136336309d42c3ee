import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { throttle } from './report';

// The clock is vitest's (setTimeout and Date.now faked): time moves only when the test says so.
describe('throttle', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function counting() {
    const runs: number[] = [];
    const errors: string[] = [];
    const fn = async () => {
      runs.push(Date.now());
    };
    return { runs, errors, fn, onError: (e: Error) => errors.push(e.message) };
  }

  it('runs at once the first time, then at most once per interval, with one trailing run for the calls between', async () => {
    const c = counting();
    const t = throttle(c.fn, 1000, c.onError);
    t();
    await vi.advanceTimersByTimeAsync(0);
    expect(c.runs).toEqual([1_000_000]);
    for (let i = 0; i < 5; i++) {
      await vi.advanceTimersByTimeAsync(100);
      t();
    }
    expect(c.runs).toHaveLength(1); // 500 ms later: not yet
    await vi.advanceTimersByTimeAsync(499);
    expect(c.runs).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(c.runs).toEqual([1_000_000, 1_001_000]); // the five calls became one run, an interval after the first
    await vi.advanceTimersByTimeAsync(5000);
    expect(c.runs).toHaveLength(2); // nothing asked since: nothing runs
  });

  it('flush runs a pending call now and waits for it; with nothing pending it only waits', async () => {
    const c = counting();
    const t = throttle(c.fn, 1000, c.onError);
    t();
    await vi.advanceTimersByTimeAsync(0);
    t();
    await t.flush();
    expect(c.runs).toEqual([1_000_000, 1_000_000]);
    await t.flush();
    expect(c.runs).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(5000);
    expect(c.runs).toHaveLength(2); // the flushed call does not run again later
  });

  it('a failing run goes to onError and does not stop later runs', async () => {
    let fail = true;
    const errors: string[] = [];
    let runs = 0;
    const t = throttle(
      async () => {
        runs++;
        if (fail) throw new Error('store down');
      },
      1000,
      (e) => errors.push(e.message),
    );
    t();
    await vi.advanceTimersByTimeAsync(0);
    expect(errors).toEqual(['store down']);
    fail = false;
    t();
    await vi.advanceTimersByTimeAsync(1000);
    expect(runs).toBe(2);
    expect(errors).toHaveLength(1);
  });
});
