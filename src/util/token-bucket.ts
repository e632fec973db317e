/**
 * A token bucket: `burst` tokens at most, refilled at `ratePerSecond`. Time is passed in (the
 * caller's injected clock, monotonic ms), so tests move it themselves and nothing here sleeps.
 */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.at = now;
  }

  private refill(now: number): void {
    // A clock that went backwards adds nothing (and takes nothing).
    if (now > this.at) this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) * this.ratePerSecond) / 1000);
    this.at = Math.max(this.at, now);
  }

  /** Takes `n` tokens if all are there (then true); otherwise takes none. */
  take(n: number, now: number): boolean {
    this.refill(now);
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  /**
   * Takes one token whether it is there or not: short, the bucket goes into debt, which the
   * refill pays back before anyone else gets a token. `waitMs(1, now)` before says when that
   * token is due.
   */
  takeAhead(now: number): void {
    this.refill(now);
    this.tokens -= 1;
  }

  /** Milliseconds until `n` tokens are there (0: now; Infinity: never, n > burst). */
  waitMs(n: number, now: number): number {
    this.refill(now);
    if (n > this.burst) return Infinity;
    return this.tokens >= n ? 0 : Math.ceil(((n - this.tokens) * 1000) / this.ratePerSecond);
  }

  /** True when the bucket is full (a caller that has been quiet long enough). */
  full(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.burst;
  }
}
