import { createHash } from 'node:crypto';

/**
 * First 8 hex chars of SHA-256 of the secret's UTF-8 text: lets two people compare
 * secrets without showing them (../shared/spec/cli.md §3).
 * @example fingerprint('sk_test_123') // 'a1b2c3d4'-style, 8 lowercase hex chars
 */
export function fingerprint(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 8);
}

/**
 * A masked form that shows at most a recognisable prefix and the last 3 characters,
 * never enough to rebuild the value. Short values show only their length class.
 * @example mask('sk_live_0123456789abcf00') // 'sk_…f00'
 */
export function mask(value: string): string {
  const chars = [...value];
  if (chars.length >= 16) return `${chars.slice(0, 3).join('')}…${chars.slice(-3).join('')}`;
  if (chars.length >= 8) return `…${chars.slice(-2).join('')}`;
  return '…';
}
