import { describe, expect, it } from 'vitest';
import { UsageError } from '../../cli/errors.js';
import { parseAt, parseLeeway } from './shared.js';

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

  it('refuses a day, hour or minute that does not exist, which Date.parse would roll over', () => {
    for (const bad of ['2026-02-29', '2026-02-30', '2026-04-31', '2026-00-10', '2026-01-01T24:00:00Z', '2026-01-01 23:60']) {
      expect(() => parseAt(bad), bad).toThrow(/no real date and time/);
    }
    expect(parseAt('2028-02-29')).toBe(Date.UTC(2028, 1, 29) / 1000);
    expect(parseAt('0004-02-29')).toBe(new Date(0).setUTCFullYear(4, 1, 29) / 1000);
    expect(parseAt('2026-01-01T23:59:59.9Z')).toBe(1767311999.9);
  });

  it('refuses text Date.parse would read around an ISO date', () => {
    for (const bad of ['2026-01-01 (note)', '2026-01-01 12:00 PST', '2026-01-01T12:00:00+25:00']) {
      expect(() => parseAt(bad), bad).toThrow(/neither an ISO 8601 time nor Unix seconds/);
    }
    expect(parseAt('2026-01-01T13:00:00+0100')).toBe(1767268800);
    expect(parseAt('2026-01-01T13:00:00+01')).toBe(1767268800);
    expect(parseAt('2026-01-01 13:00+01')).toBe(1767268800);
  });
});

describe('parseLeeway (--leeway)', () => {
  it('reads durations up to 24h', async () => {
    expect(await parseLeeway('0')).toBe(0);
    expect(await parseLeeway('2m')).toBe(120);
    expect(await parseLeeway('24h')).toBe(86400);
  });

  it('refuses more than 24h, which switches the time checks off, with ERR_TOKEN_LEEWAY', async () => {
    for (const bad of ['25h', '2d', '1e19d', '99999999999999999999d']) {
      await expect(parseLeeway(bad), bad).rejects.toMatchObject({ code: 'ERR_TOKEN_LEEWAY', exitCode: 2 });
    }
    await expect(parseLeeway('2d')).rejects.toMatchObject({ hint: expect.stringMatching(/--at/) as unknown });
  });

  it('refuses 2M, which would be read as minutes but usually means months', async () => {
    await expect(parseLeeway('2M')).rejects.toMatchObject({ code: 'ERR_TOKEN_LEEWAY' });
  });
});
