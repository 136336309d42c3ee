export interface TokenManagerOptions {
  /** Performs the login; resolves with the token expiry (epoch ms). */
  login: () => Promise<number>;
  refreshMarginMs: number;
  now?: () => number;
}

/**
 * Client-credentials token lifecycle: one login at a time (concurrent callers share the in-flight promise),
 * proactive re-login before expiry, and at most one re-login per token generation after a 401.
 */
export class TokenManager {
  private inflight: Promise<void> | undefined;
  private refreshAt = 0;
  /** Incremented by every successful login; lets a 401 tell whether someone already logged in again. */
  generation = 0;
  private readonly now: () => number;

  constructor(private readonly opts: TokenManagerOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Logs in (joins the in-flight login if there is one). */
  login(): Promise<void> {
    this.inflight ??= this.runLogin().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  /** Resolves once a token is valid for a while yet; logs in only when it is (nearly) expired. */
  async ensureFresh(): Promise<void> {
    if (this.inflight) return this.inflight;
    if (this.generation > 0 && this.now() < this.refreshAt) return;
    return this.login();
  }

  /** After a 401 on a call sent with token `generation`: log in again unless another caller already did. */
  async reauth(generation: number): Promise<void> {
    if (this.inflight) return this.inflight;
    if (this.generation !== generation) return;
    return this.login();
  }

  private async runLogin(): Promise<void> {
    const obtainedAt = this.now();
    const expiresAt = await this.opts.login();
    const ttl = Math.max(0, expiresAt - obtainedAt);
    // Refresh refreshMarginMs before expiry, but never sooner than half-way (a short TTL must not mean a login per call).
    this.refreshAt = obtainedAt + Math.max(ttl - this.opts.refreshMarginMs, ttl / 2);
    this.generation += 1;
  }
}
