/**
 * Cut `bytes` into chunks at the given offsets (taken modulo length + 1, deduplicated and
 * sorted), as a stream might deliver them: multi-byte characters and CRLF pairs may be split.
 * @example cutBytes(Buffer.from('abc'), [1]) // [<61>, <62 63>]
 */
export function cutBytes(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    if (p > prev) chunks.push(bytes.subarray(prev, p));
    prev = Math.max(prev, p);
  }
  return chunks;
}
