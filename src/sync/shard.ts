/**
 * `--shard i/n`: a stable hash partition of the rows by external id, so n CI jobs can split
 * one file and every row lands in exactly one of them, the same one on every run and machine.
 * Pure: no I/O.
 */

/** A parsed `--shard i/n`: this job takes the rows whose shard number is `index` (0 ≤ index < count). */
export interface Shard {
  index: number;
  count: number;
}

const SHARD_RE = /^(\d{1,4})\/(\d{1,4})$/;

/**
 * Parse `i/n` with 1 ≤ i ≤ n ≤ 1024. The flag is 1-based, like most CI matrix indexes
 * (GitLab `CI_NODE_INDEX`); a 0-based runner passes `$((i+1))/n`. `0/n` is refused rather than
 * guessed at: mixing the two conventions would silently skip one shard.
 * @example parseShard('2/3') // { index: 1, count: 3 }
 */
export function parseShard(text: string): Shard | undefined {
  const m = SHARD_RE.exec(text.trim());
  if (!m) return undefined;
  const i = Number(m[1]);
  const n = Number(m[2]);
  if (n < 1 || n > 1024 || i < 1 || i > n) return undefined;
  return { index: i - 1, count: n };
}

/**
 * 32-bit FNV-1a over the UTF-8 bytes of `text`: tiny, fast, specified byte for byte
 * (http://www.isthe.com/chongo/tech/comp/fnv/), so another tool can reproduce the split.
 * @example fnv1a32('a') // 0xe40c292c
 */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The shard (0-based) a row with this external id belongs to: `fnv1a32(id) mod n`. The id is
 * taken exactly as written in the cell (no trimming), so a row never changes shard between runs.
 * @example shardOf('user_123', 4) // a number in 0..3, the same every time
 */
export function shardOf(externalId: string, count: number): number {
  return count <= 1 ? 0 : fnv1a32(externalId) % count;
}
