// Human forms of JWT NumericDates for messages and the human output of token verify/decode.

/**
 * ISO 8601 of a NumericDate, or a note when it is out of the Date range.
 * @example iso(0) // '1970-01-01T00:00:00.000Z'
 */
export function iso(seconds: number): string {
  const ms = seconds * 1000;
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : `${seconds} (out of range)`;
}

/**
 * A short human duration: `59m`, `2h 5m`, `3d 4h`, `45s`, `12y` (also the contacts sync
 * bar's time left).
 * @example ago(3540) // '59m'
 */
export function ago(seconds: number): string {
  const s = Math.round(Math.abs(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 && s < 600 ? ` ${s % 60}s` : ''}`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)}m` : ''}`;
  if (s < 365 * 86400) return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600) ? ` ${Math.floor((s % 86400) / 3600)}h` : ''}`;
  return `${Math.floor(s / (365.25 * 86400))}y`;
}

/**
 * A NumericDate relative to `now`, phrased for the claim: "expires in 59m", "expired 2h ago",
 * "issued 1m ago", "valid from 5m from now".
 * @example relativeClaimTime('exp', 1767229140, 1767225600) // 'expires in 59m'
 */
export function relativeClaimTime(claim: string, seconds: number, now: number): string {
  const d = seconds - now;
  if (Math.abs(d) < 1) return claim === 'exp' ? 'expires now' : claim === 'iat' ? 'issued just now' : 'now';
  const span = ago(d);
  if (claim === 'exp') return d > 0 ? `expires in ${span}` : `expired ${span} ago`;
  if (claim === 'nbf') return d > 0 ? `not valid for another ${span}` : `valid since ${span} ago`;
  if (claim === 'iat') return d > 0 ? `issued ${span} in the future` : `issued ${span} ago`;
  return d > 0 ? `in ${span}` : `${span} ago`;
}
