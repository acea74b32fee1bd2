/** What the limiter decided for one request, with the values for the rate-limit headers. */
export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** When the oldest counted request leaves the window (Unix ms). */
  resetAt: number;
  /** Seconds until a request would be accepted again (only meaningful when not allowed). */
  retryAfterSeconds: number;
}

/**
 * Sliding-window limiter, one window per key (vendors.md §2.4: 100 requests per 10 s).
 * Only accepted requests count, so a client that backs off on 429 gets through again as
 * soon as the oldest request leaves the window.
 */
export class SlidingWindowLimiter {
  private readonly hits = new Map<string, number[]>();
  readonly limit: number;
  readonly windowMs: number;
  constructor(limit: number, windowMs: number) {
    this.limit = limit;
    this.windowMs = windowMs;
  }

  take(key: string, now: number): RateDecision {
    let list = this.hits.get(key);
    if (!list) {
      list = [];
      this.hits.set(key, list);
    }
    const cutoff = now - this.windowMs;
    let drop = 0;
    while (drop < list.length && (list[drop] as number) <= cutoff) drop++;
    if (drop > 0) list.splice(0, drop);
    if (list.length >= this.limit) {
      const oldest = list[0] as number;
      const resetAt = oldest + this.windowMs;
      return { allowed: false, limit: this.limit, remaining: 0, resetAt, retryAfterSeconds: Math.max(1, Math.ceil((resetAt - now) / 1000)) };
    }
    list.push(now);
    const resetAt = (list[0] as number) + this.windowMs;
    return { allowed: true, limit: this.limit, remaining: this.limit - list.length, resetAt, retryAfterSeconds: 0 };
  }
}
