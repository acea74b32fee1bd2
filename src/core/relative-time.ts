/**
 * A short human phrase for the time from `now` to `then`: the largest whole unit that fits
 * (seconds, minutes, hours, days), plus the next unit down for days and hours, so that a grace
 * period of 6 days 23 hours does not read as "6 days" a minute after it was set to 7.
 * Pure: both instants are parameters.
 * @example relativeTime(new Date('2026-01-02T00:00:00Z'), new Date('2026-01-01T00:00:00Z')) // 'in 1 day'
 * @example relativeTime(new Date('2026-01-01T01:30:00Z'), new Date('2026-01-01T00:00:00Z')) // 'in 1 hour 30 minutes'
 */
export function relativeTime(then: Date, now: Date): string {
  const diff = then.getTime() - now.getTime();
  const abs = Math.abs(diff);
  const units: Array<[string, number]> = [
    ['day', 86_400_000],
    ['hour', 3_600_000],
    ['minute', 60_000],
    ['second', 1_000],
  ];
  const count = (n: number, unit: string): string => `${n} ${unit}${n === 1 ? '' : 's'}`;
  for (let i = 0; i < units.length; i++) {
    const [unit, size] = units[i]!;
    if (abs < size) continue;
    let phrase = count(Math.trunc(abs / size), unit);
    const next = units[i + 1];
    if (next !== undefined && (unit === 'day' || unit === 'hour')) {
      const rest = Math.trunc((abs % size) / next[1]);
      if (rest > 0) phrase += ` ${count(rest, next[0])}`;
    }
    return diff >= 0 ? `in ${phrase}` : `${phrase} ago`;
  }
  return diff >= 0 ? 'now' : 'just now';
}
