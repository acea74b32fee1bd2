/**
 * Duplicate external ids in a file too big for memory: "the same id later in the file wins".
 *
 * Strategy (two cheap passes before the sync pass, constant memory per row):
 * 1. Scan: each id is reduced to a 53-bit hash kept in a typed array (8 bytes a row, so
 *    1 000 000 rows hold 8 MB for the length of the scan). Sorting them finds the hashes seen
 *    more than once: the only ids that can be duplicates.
 * 2. Only when there are any: a second scan records, for those candidate ids alone, the exact
 *    id → its last row (memory proportional to the duplicated ids, not the file). A hash
 *    collision between two different ids is therefore harmless: exact strings decide.
 * Then the sync pass marks a row duplicate when its id has a later row.
 */

/**
 * A 53-bit hash of a string (exact in a double, so no BigInt per row): two independent 32-bit
 * FNV-1a variants over UTF-16 code units, one cut to 21 bits. A collision only makes an id a
 * candidate for the exact second scan, never a duplicate.
 */
export function idHash(id: string): number {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return (a >>> 0) * 0x200000 + (b >>> 11);
}

/** Collects id hashes during the scan and tells which occur more than once. */
export class HashCollector {
  private buf = new Float64Array(1024);
  private n = 0;
  push(h: number): void {
    if (this.n === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.n++] = h;
  }
  get size(): number {
    return this.n;
  }
  /** The hashes pushed so far (a view: valid until the next push). */
  get values(): Float64Array {
    return this.buf.subarray(0, this.n);
  }
  /** Add the hashes another collector gathered (the parallel scan's worker). */
  pushAll(hs: Float64Array): void {
    if (this.n + hs.length > this.buf.length) {
      const next = new Float64Array(Math.max(this.buf.length * 2, this.n + hs.length));
      next.set(this.buf.subarray(0, this.n));
      this.buf = next;
    }
    this.buf.set(hs, this.n);
    this.n += hs.length;
  }
  /** The hashes seen at least twice. Frees the buffer. */
  repeated(): Set<number> {
    const sorted = this.buf.subarray(0, this.n).sort();
    const out = new Set<number>();
    for (let i = 1; i < sorted.length; i++) if (sorted[i] === sorted[i - 1]) out.add(sorted[i]!);
    this.buf = new Float64Array(0);
    this.n = 0;
    return out;
  }
}

/** Answers "is this row superseded by a later row with the same id?" once the scans are done. */
export class DuplicateIndex {
  private readonly candidates: Set<number>;
  private readonly last = new Map<string, number>();
  constructor(candidates: Set<number>) {
    this.candidates = candidates;
  }
  /** Whether the id may be duplicated (only these need the exact second scan). */
  isCandidate(id: string): boolean {
    return this.candidates.size > 0 && this.candidates.has(idHash(id));
  }
  /** Second scan: remember the last row of a candidate id. */
  see(id: string, row: number): void {
    // A copy, not a slice of the chunk the id was read from (which would keep the chunk alive).
    this.last.set(this.last.has(id) ? id : flat(id), row);
  }
  /** The later row that wins over `row`, or undefined when `row` is the last for its id. */
  supersededBy(id: string, row: number): number | undefined {
    if (!this.isCandidate(id)) return undefined;
    const last = this.last.get(id);
    return last !== undefined && last !== row ? last : undefined;
  }
  get needsSecondScan(): boolean {
    return this.candidates.size > 0;
  }
}

/** A string of its own (V8 may represent a slice as a view into the string it was cut from). */
function flat(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'utf8').toString('utf8');
}
