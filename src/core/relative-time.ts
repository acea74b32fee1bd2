/**
 * A short human phrase for the time from `now` to `then`, in the largest whole unit
 * that fits (seconds, minutes, hours, days), e.g. for a previous secret's expiry.
 * Pure: both instants are parameters.
 * @example relativeTime(new Date('2026-01-02T00:00:00Z'), new Date('2026-01-01T00:00:00Z')) // 'in 1 day'
 */
export function relativeTime(then: Date, now: Date): string {
  const diff = then.getTime() - now.getTime();
  const abs = Math.abs(diff);
  const units: Array<[Intl.RelativeTimeFormatUnit, number]> = [
    ['day', 86_400_000],
    ['hour', 3_600_000],
    ['minute', 60_000],
    ['second', 1_000],
  ];
  const fmt = new Intl.RelativeTimeFormat('en', { numeric: 'always' });
  for (const [unit, size] of units) {
    if (abs >= size) return fmt.format(Math.trunc(diff / size), unit);
  }
  return diff >= 0 ? 'now' : 'just now';
}
