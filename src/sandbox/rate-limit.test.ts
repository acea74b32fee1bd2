import { describe, expect, it } from 'vitest';
import { seededRandom } from './prng.js';
import { SlidingWindowLimiter } from './rate-limit.js';

describe('SlidingWindowLimiter', () => {
  it('allows `limit` requests per window per key and frees slots as they age out', () => {
    const l = new SlidingWindowLimiter(2, 1000);
    expect(l.take('k', 0)).toEqual({ allowed: true, limit: 2, remaining: 1, resetAt: 1000, retryAfterSeconds: 0 });
    expect(l.take('k', 400)).toMatchObject({ allowed: true, remaining: 0, resetAt: 1000 });
    expect(l.take('k', 999)).toEqual({ allowed: false, limit: 2, remaining: 0, resetAt: 1000, retryAfterSeconds: 1 });
    expect(l.take('other', 999).allowed).toBe(true);
    expect(l.take('k', 1000)).toMatchObject({ allowed: true, remaining: 0, resetAt: 1400 });
    expect(l.take('k', 1399).allowed).toBe(false);
  });

  it('rounds Retry-After up, so a client that obeys it is never early', () => {
    const l = new SlidingWindowLimiter(1, 10_000);
    l.take('k', 0);
    expect(l.take('k', 1).retryAfterSeconds).toBe(10);
    expect(l.take('k', 8_500).retryAfterSeconds).toBe(2);
    expect(l.take('k', 10_000).allowed).toBe(true);
  });
});

describe('seededRandom', () => {
  it('is deterministic per seed and stays in [0, 1)', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(xs.slice(0, 3)).not.toEqual(Array.from({ length: 3 }, seededRandom(43)));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
  });
});
