import { describe, expect, it } from 'vitest';
import { TokenManager } from './token-manager';

/** A login that answers when told to, with a token valid for `ttlMs` from the clock's time then. */
function harness(ttlMs: number, refreshMarginMs: number) {
  let clock = 1_000_000;
  let logins = 0;
  const pending: Array<() => void> = [];
  const tm = new TokenManager({
    refreshMarginMs,
    now: () => clock,
    login: () =>
      new Promise<number>((resolve) => {
        logins += 1;
        pending.push(() => resolve(clock + ttlMs));
      }),
  });
  return {
    tm,
    advance: (ms: number) => (clock += ms),
    logins: () => logins,
    /** Answer every login in flight. */
    answer: async () => {
      for (const p of pending.splice(0)) p();
      await Promise.resolve();
    },
  };
}

describe('TokenManager', () => {
  it('concurrent callers share one login (single flight)', async () => {
    const h = harness(60_000, 10_000);
    const all = Promise.all([h.tm.ensureFresh(), h.tm.ensureFresh(), h.tm.login()]);
    expect(h.logins()).toBe(1);
    await h.answer();
    await all;
    expect(h.tm.generation).toBe(1);
  });

  it('logs in again refreshMarginMs before expiry, not sooner', async () => {
    const h = harness(60_000, 10_000);
    const first = h.tm.ensureFresh();
    await h.answer();
    await first;
    h.advance(49_999);
    await h.tm.ensureFresh();
    expect(h.logins()).toBe(1);
    h.advance(1);
    const second = h.tm.ensureFresh();
    expect(h.logins()).toBe(2);
    await h.answer();
    await second;
    expect(h.tm.generation).toBe(2);
  });

  it('a short token is refreshed half-way at the earliest (no login per call)', async () => {
    const h = harness(4_000, 60_000); // margin longer than the token: half-way wins
    const first = h.tm.ensureFresh();
    await h.answer();
    await first;
    h.advance(1_999);
    await h.tm.ensureFresh();
    expect(h.logins()).toBe(1);
    h.advance(1);
    void h.tm.ensureFresh();
    expect(h.logins()).toBe(2);
    await h.answer();
  });

  it('after a 401, logs in again once per token generation', async () => {
    const h = harness(60_000, 10_000);
    const first = h.tm.login();
    await h.answer();
    await first;
    const seen = h.tm.generation;
    const again = Promise.all([h.tm.reauth(seen), h.tm.reauth(seen)]);
    expect(h.logins()).toBe(2);
    await h.answer();
    await again;
    // a caller whose 401 was for the old token does not log in a third time
    await h.tm.reauth(seen);
    expect(h.logins()).toBe(2);
  });
});
