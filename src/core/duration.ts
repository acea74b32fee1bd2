import ms from 'ms';

/**
 * Parse a human duration (`30s`, `15m`, `1h`, `24h`, `7d`, with an optional leading `+`)
 * into milliseconds. A bare number is refused: `3600` is ambiguous (jsonwebtoken reads it
 * as 3.6 s), so units are required. So is a capital `M` (`2M`): `ms` reads it as minutes, but
 * it is the usual abbreviation of months. Returns undefined for anything that is not a duration.
 * @example parseDuration('1h') // 3600000
 */
export function parseDuration(text: string): number | undefined {
  const t = text.trim().replace(/^\+/, '');
  if (!/^\d+(\.\d+)?\s*[a-z]+$/i.test(t) || /M$/.test(t)) return undefined;
  const value = ms(t as ms.StringValue);
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}
