import { describe, expect, it } from 'vitest';
import { relativeTime } from './relative-time.js';

const NOW = new Date('2026-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(NOW.getTime() + ms);

describe('relativeTime', () => {
  it.each([
    [0, 'now'],
    [999, 'now'],
    [-500, 'just now'],
    [1_000, 'in 1 second'],
    [59_999, 'in 59 seconds'],
    [60_000, 'in 1 minute'],
    [3_599_999, 'in 59 minutes'],
    [3_600_000, 'in 1 hour'],
    [86_399_999, 'in 23 hours 59 minutes'],
    [5_400_000, 'in 1 hour 30 minutes'],
    [7 * 86_400_000 - 60_000, 'in 6 days 23 hours'],
    [-(86_400_000 + 3_600_000), '1 day 1 hour ago'],
    [86_400_000, 'in 1 day'],
    [7 * 86_400_000, 'in 7 days'],
    [-2 * 3_600_000, '2 hours ago'],
    [-86_400_000, '1 day ago'],
  ])('%i ms → %s', (ms, text) => {
    expect(relativeTime(at(ms), NOW)).toBe(text);
  });
});
