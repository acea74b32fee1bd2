import { describe, expect, it } from 'vitest';
import { UsageError } from '../../cli/errors.js';
import { parseAt } from './shared.js';

describe('parseAt (--at)', () => {
  it('reads Unix seconds and ISO 8601 with a zone', () => {
    expect(parseAt('1767268800')).toBe(1767268800);
    expect(parseAt('2026-01-01T12:00:00Z')).toBe(1767268800);
    expect(parseAt('2026-01-01T13:00:00+01:00')).toBe(1767268800);
    expect(parseAt('2026-01-01 13:00+01:00')).toBe(1767268800);
    expect(parseAt('2026-01-01T12:00:00.5Z')).toBe(1767268800.5);
  });

  it('reads a date and time without a zone as UTC, whatever the machine zone', () => {
    // JavaScript's Date.parse would read these as local time.
    expect(parseAt('2026-01-01T12:00:00')).toBe(1767268800);
    expect(parseAt('2026-01-01 12:00')).toBe(1767268800);
    expect(parseAt('2026-01-01t12:00:00')).toBe(1767268800);
    expect(parseAt('2026-01-01t12:00:00z')).toBe(1767268800);
    expect(parseAt('2026-01-01')).toBe(1767225600);
  });

  it('refuses milliseconds and words with ERR_TOKEN_AT', () => {
    for (const bad of ['1767268800000', 'yesterday', '-5m', '12:00', '']) {
      expect(() => parseAt(bad), bad).toThrow(UsageError);
    }
    expect(() => parseAt('1767268800000')).toThrow(/looks like milliseconds/);
  });
});
