import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.js';

describe('parseDuration', () => {
  it('reads durations with a unit, with or without a leading +', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('+1h')).toBe(3_600_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('1H')).toBe(3_600_000);
  });

  it('refuses bare numbers and a capital M (months or minutes?)', () => {
    expect(parseDuration('3600')).toBeUndefined();
    expect(parseDuration('2M')).toBeUndefined();
    expect(parseDuration('+2M')).toBeUndefined();
    expect(parseDuration('2m')).toBe(120_000);
  });
});
