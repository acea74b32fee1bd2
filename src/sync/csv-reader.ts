/**
 * Streaming CSV for contacts sync: bytes → strict UTF-8 → records, with back-pressure all the
 * way (the consumer's `for await` pace decides how much is read), so memory stays flat for any
 * file size. RFC 4180 with a header, UTF-8 with or without BOM, CRLF, LF or CR line ends,
 * quoted commas, newlines and quotes.
 *
 * The tokenizer is our own rather than csv-parse's: csv-parse turns every byte into a call and
 * every field into a Buffer copy, which made it most of the cost of a sync (docs/performance.md,
 * "Batch and sync"). It reads exactly what csv-parse read with the options this module used
 * before (`bom`, `relax_column_count`, `relax_quotes`, `max_record_size` 1 MiB, record
 * delimiters CRLF, LF and CR), down to its quirks — a quote that closes a quoted field without
 * a delimiter after it is kept as text, a NUL after a quote closes it — which a property test
 * checks against csv-parse itself (csv-reader.test.ts). The one difference is on purpose: a
 * blank line (nothing between two line ends) and a record holding one empty quoted cell (`""`)
 * are told apart, so a one-column file's `""` row is a row (with an empty id), while blank
 * lines are skipped and counted.
 */
import { isUtf8 } from 'node:buffer';
import type { Readable } from 'node:stream';
import { CancelledError, UsageError } from '../cli/errors.js';

export interface CsvRecord {
  cells: string[];
  /** Physical line (1-based) where the record starts: what an editor shows. */
  line: number;
}

/** Counters a caller can pass in to learn what the reader skipped. */
export interface CsvReadStats {
  /** Blank lines (nothing between two line ends) after the first record: skipped, not rows. */
  blankLines: number;
}

/**
 * Bytes to read: a stream, or chunks that are only valid until the next one is asked for
 * (fileChunks), which the reader consumes at once (hash, decode) and never keeps.
 */
export type ByteSource = Readable | ChunkSource;

export interface ChunkSource extends AsyncIterable<Buffer> {
  /** Stop reading (an abort); the next chunk is not read. */
  destroy(err?: Error): void;
}

/**
 * A file read into one buffer used again for every chunk. A stream hands out a new 64 KiB
 * buffer per chunk: reading a large file twice made the allocator take memory from the system
 * and give it back over and over, and the page faults cost more than the reading.
 */
export function fileChunks(path: string, size = 1 << 16): ChunkSource {
  let stopped: Error | undefined;
  return {
    destroy(err?: Error) {
      stopped ??= err ?? new Error('closed');
    },
    async *[Symbol.asyncIterator]() {
      const { open } = await import('node:fs/promises');
      const fh = await open(path, 'r');
      try {
        const buf = Buffer.allocUnsafeSlow(size);
        for (;;) {
          if (stopped) throw stopped;
          const { bytesRead } = await fh.read(buf, 0, size, null);
          if (bytesRead === 0) return;
          yield bytesRead === size ? buf : buf.subarray(0, bytesRead);
        }
      } finally {
        await fh.close();
      }
    },
  };
}

/** A record longer than this is a broken quote swallowing the file, not a contact. */
export const MAX_RECORD_BYTES = 1 << 20;

const COMMA = 0x2c;
const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
const BOM = 0xfeff;

/** Thrown by the tokenizer; readCsvRecords turns it into a UsageError. */
export class CsvSyntaxError extends Error {
  readonly kind: 'quote-not-closed' | 'record-too-long';
  /** Line where the record in question starts. */
  readonly line: number;
  constructor(kind: 'quote-not-closed' | 'record-too-long', line: number) {
    super(kind);
    this.kind = kind;
    this.line = line;
  }
}

/** UTF-8 byte length of a string (no allocation for the common all-ASCII case is not needed: rare path). */
function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/**
 * The tokenizer: text in (any chunking), records out through `emit`. Records are emitted as
 * soon as their end is certain; a record cut by a chunk boundary keeps its state (cells so far,
 * the field so far, whether a quote is open), so nothing is read twice.
 */
export class CsvTokenizer {
  /** Blank lines seen after the first record. */
  blankLines = 0;
  private cells: string[] = [];
  private field = '';
  private quoting = false;
  private wasQuoting = false;
  /** Whether the record in progress went through the general path (and may span lines). */
  private inRecord = false;
  /** csv-parse's `record_length`: UTF-16 length of the record's completed fields. */
  private recordLen = 0;
  /** A character held back until the next one is known (a CR, or a quote inside quotes). */
  private pending = '';
  /** Physical line where the record in progress starts. */
  private line = 1;
  private records = 0;
  private readonly maxRecordBytes: number;
  private readonly emit: (cells: string[], line: number) => void;

  constructor(emit: (cells: string[], line: number) => void, maxRecordBytes = MAX_RECORD_BYTES) {
    this.emit = emit;
    this.maxRecordBytes = maxRecordBytes;
  }

  /** Feed the next piece of text; `end` once it is the last. Throws CsvSyntaxError. */
  push(text: string, end: boolean): void {
    const s = this.pending === '' ? text : this.pending + text;
    this.pending = '';
    const n = s.length;
    let i = 0;
    // Where the next LF, CR and quote are (recomputed only once passed: linear overall).
    let nextLf = -1;
    let nextCr = -1;
    let nextQuote = -1;
    while (i < n) {
      if (!this.inRecord) {
        // Fast path: a whole record on one line, without quotes, split at once.
        if (nextLf < i && nextLf !== n) nextLf = indexOr(s, '\n', i, n);
        if (nextCr < i && nextCr !== n) nextCr = indexOr(s, '\r', i, n);
        const eol = nextLf < nextCr ? nextLf : nextCr;
        if (eol < n && (eol === nextLf || eol + 1 < n || end)) {
          if (nextQuote < i && nextQuote !== n) nextQuote = indexOr(s, '"', i, n);
          if (nextQuote > eol) {
            const next = eol === nextCr && s.charCodeAt(eol + 1) === LF ? eol + 2 : eol + 1;
            if (eol === i) {
              if (this.records > 0) this.blankLines++;
            } else {
              const cells = s.slice(i, eol).split(',');
              if ((eol - i) * 3 > this.maxRecordBytes) this.checkCells(cells);
              this.records++;
              this.emit(cells, this.line);
            }
            this.line++;
            i = next;
            continue;
          }
        }
        this.inRecord = true;
      }
      i = this.general(s, i, n, end);
      if (i < 0) {
        // Held back for the next piece: the rest needs one more character to be read.
        this.pending = s.slice(-i - 1);
        return;
      }
    }
    if (end) this.finish();
  }

  /**
   * The general path, csv-parse's state machine, from `i` until the record ends (returns the
   * index after it) or the text does (returns n, or -(index+1) of a held-back character).
   */
  private general(s: string, i: number, n: number, end: boolean): number {
    while (i < n) {
      if (this.quoting) {
        const q = s.indexOf('"', i);
        if (q < 0) {
          this.append(s.slice(i, n));
          return n;
        }
        if (q > i) this.append(s.slice(i, q));
        if (q + 1 >= n) {
          if (!end) return -(q + 1);
          this.quoting = false;
          this.wasQuoting = true;
          return n;
        }
        const c = s.charCodeAt(q + 1);
        if (c === QUOTE) {
          this.append('"'); // an escaped quote
          i = q + 2;
          continue;
        }
        this.quoting = false;
        this.wasQuoting = true;
        i = q + 1;
        // csv-parse closes on a delimiter, a line end, the end of the data, or a NUL (its
        // `!nextChr` test is also true for the byte 0). Anything else: relax_quotes keeps the
        // quotes as text, and the field goes on unquoted.
        if (c !== COMMA && c !== LF && c !== CR && c !== 0) {
          this.field = `"${this.field}`;
          this.append('"');
        }
        continue;
      }
      const c = s.charCodeAt(i);
      if (c === COMMA) {
        this.endField();
        i++;
        continue;
      }
      if (c === LF || c === CR) {
        if (c === CR && i + 1 >= n && !end) return -(i + 1);
        this.endRecord();
        return c === CR && s.charCodeAt(i + 1) === LF ? i + 2 : i + 1;
      }
      if (c === QUOTE && this.field === '') {
        this.quoting = true;
        i++;
        continue;
      }
      // A run of plain text (a quote inside an unquoted field is text).
      let j = i + 1;
      while (j < n) {
        const d = s.charCodeAt(j);
        if (d === COMMA || d === LF || d === CR) break;
        j++;
      }
      this.append(s.slice(i, j));
      i = j;
    }
    return n;
  }

  private append(text: string): void {
    this.field += text;
    // csv-parse checks, before each byte it adds, that the record so far is within the limit.
    if (this.recordLen + this.field.length * 3 > this.maxRecordBytes) this.checkField();
  }

  private checkField(): void {
    if (this.field !== '' && this.recordLen + utf8Length(this.field) - 1 > this.maxRecordBytes) throw new CsvSyntaxError('record-too-long', this.line);
  }

  /** The size check for a record split on the fast path (only called for long lines). */
  private checkCells(cells: string[]): void {
    let len = 0;
    for (const c of cells) {
      if (c !== '' && len + utf8Length(c) - 1 > this.maxRecordBytes) throw new CsvSyntaxError('record-too-long', this.line);
      len += c.length;
    }
  }

  private endField(): void {
    this.cells.push(this.field);
    this.recordLen += this.field.length;
    this.field = '';
    this.wasQuoting = false;
  }

  private endRecord(): void {
    if (this.cells.length === 0 && this.field === '' && !this.wasQuoting) {
      if (this.records > 0) this.blankLines++;
      this.line++;
    } else {
      this.endField();
      const cells = this.cells;
      const line = this.line;
      this.line += 1 + countBreaks(cells);
      this.records++;
      this.emit(cells, line);
    }
    this.cells = [];
    this.recordLen = 0;
    this.inRecord = false;
  }

  private finish(): void {
    if (this.quoting) throw new CsvSyntaxError('quote-not-closed', this.line);
    // csv-parse emits a last record without a line end only when it holds something.
    if (this.cells.length > 0 || this.field !== '' || this.wasQuoting) this.endRecord();
    this.inRecord = false;
  }
}

function indexOr(s: string, ch: string, from: number, n: number): number {
  const k = s.indexOf(ch, from);
  return k < 0 ? n : k;
}

function countBreaks(cells: readonly string[]): number {
  let n = 0;
  for (const c of cells) {
    if (c.indexOf('\n') < 0 && c.indexOf('\r') < 0) continue;
    n += c.match(/\r\n|\r|\n/g)?.length ?? 0;
  }
  return n;
}

/** The expected length of a UTF-8 sequence from its lead byte (0: not a lead byte). */
function seqLength(b: number): number {
  if (b < 0x80) return 1;
  if (b >= 0xc2 && b <= 0xdf) return 2;
  if (b >= 0xe0 && b <= 0xef) return 3;
  if (b >= 0xf0 && b <= 0xf4) return 4;
  return 0;
}

/** Index of the first byte of the first invalid (or truncated) UTF-8 sequence in `b`, or -1. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const x = b[i]!;
    const len = seqLength(x);
    if (len === 0 || i + len > b.length) return i;
    if (len > 1) {
      const y = b[i + 1]!;
      // The second byte's range depends on the first (no overlongs, no surrogates, ≤ U+10FFFF).
      const lo = x === 0xe0 ? 0xa0 : x === 0xf0 ? 0x90 : 0x80;
      const hi = x === 0xed ? 0x9f : x === 0xf4 ? 0x8f : 0xbf;
      if (y < lo || y > hi) return i;
      for (let k = 2; k < len; k++) if ((b[i + k]! & 0xc0) !== 0x80) return i;
    }
    i += len;
  }
  return -1;
}

/** Where a chunk stops being complete: the start of a trailing sequence that needs more bytes. */
function completeLength(b: Buffer): number {
  const n = b.length;
  for (let k = 1; k <= 3 && k <= n; k++) {
    const x = b[n - k]!;
    if ((x & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const len = seqLength(x);
    return len > k ? n - k : n;
  }
  return n;
}

export interface ReadOptions<T> {
  signal?: AbortSignal | undefined;
  /** Filled in once the whole file is read. */
  stats?: CsvReadStats | undefined;
  /** Sees every raw chunk (the scan hashes the file with it). */
  tap?: ((chunk: Buffer) => void) | undefined;
  /** Builds the object yielded for a record (default: a CsvRecord). */
  make?: ((cells: string[], line: number) => T) | undefined;
}

/**
 * Records of a CSV byte stream, header included (the caller reads the first one as the
 * header), a chunk's worth at a time. CSV syntax errors and invalid UTF-8 throw UsageError
 * (exit 2) naming the line; ragged rows are yielded as they are (the caller rejects them row
 * by row).
 */
export async function* readCsvBatches<T = CsvRecord>(source: ByteSource, o: ReadOptions<T> = {}): AsyncGenerator<T[]> {
  const { signal } = o;
  let out: T[] = [];
  const make = o.make ?? ((cells: string[], line: number) => ({ cells, line }) as T);
  const tok = new CsvTokenizer((cells, line) => {
    out.push(make(cells, line));
  });
  const onAbort = (): void => {
    source.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  let bytes = 0; // bytes of the file before `carry`
  let lines = 1; // line of the first byte of `carry` (LF counted, as an editor does)
  let carry: Buffer | undefined; // bytes of a character cut by the chunk boundary
  let bomsLeft = 2; // a UTF-8 BOM, and csv-parse's own BOM check after it
  try {
    const decode = (chunk: Buffer, last: boolean): string => {
      const b = carry ? Buffer.concat([carry, chunk]) : chunk;
      const whole = last ? b.length : completeLength(b);
      const head = whole === b.length ? b : b.subarray(0, whole);
      if (!isUtf8(head) || (last && whole < b.length)) throw notUtf8(b, bytes, lines);
      carry = whole < b.length ? Buffer.from(b.subarray(whole)) : undefined;
      bytes += whole;
      let text = head.toString('utf8');
      while (bomsLeft > 0 && text.length > 0) {
        if (text.charCodeAt(0) !== BOM) {
          bomsLeft = 0;
          break;
        }
        text = text.slice(1);
        bomsLeft--;
      }
      for (let k = text.indexOf('\n'); k >= 0; k = text.indexOf('\n', k + 1)) lines++;
      return text;
    };
    let first = true;
    for await (const raw of source as AsyncIterable<Buffer | string>) {
      const chunk = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
      if (first && chunk.length >= 2 && ((chunk[0] === 0xff && chunk[1] === 0xfe) || (chunk[0] === 0xfe && chunk[1] === 0xff))) {
        throw new UsageError('ERR_SYNC_NOT_UTF8', 'The file is UTF-16 (it starts with a UTF-16 byte-order mark), not UTF-8.', {
          hint: 'Save it as "CSV UTF-8" (Excel\'s "Unicode Text" is UTF-16), or convert it: iconv -f utf-16 -t utf-8 in.csv > out.csv',
        });
      }
      if (chunk.length > 0) first = false;
      o.tap?.(chunk);
      tok.push(decode(chunk, false), false);
      if (signal?.aborted) throw new CancelledError('Interrupted.');
      if (out.length) {
        const batch = out;
        out = [];
        yield batch;
      }
    }
    tok.push(carry ? decode(Buffer.alloc(0), true) : '', true);
    if (o.stats) o.stats.blankLines += tok.blankLines;
    if (out.length) yield out;
  } catch (err) {
    if (signal?.aborted) throw new CancelledError('Interrupted.', { cause: err });
    if (err instanceof CsvSyntaxError) {
      const what = err.kind === 'record-too-long' ? `the record starting there is longer than ${MAX_RECORD_BYTES} bytes (an unclosed quote?)` : 'a quoted field in the record starting there is never closed';
      throw new UsageError('ERR_SYNC_CSV_SYNTAX', `The CSV cannot be parsed near line ${err.line}: ${what}.`, {
        hint: 'Fix the quoting there (a quote inside a quoted field is written "") and run again.',
      });
    }
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    source.destroy();
  }
}

function notUtf8(b: Buffer, before: number, lines: number): UsageError {
  const at = Math.max(0, firstInvalidUtf8(b));
  let line = lines;
  for (let k = b.indexOf(LF); k >= 0 && k < at; k = b.indexOf(LF, k + 1)) line++;
  return new UsageError('ERR_SYNC_NOT_UTF8', `The file is not valid UTF-8 (byte ${before + at}, line ${line}).`, {
    hint: 'Save the CSV as UTF-8 (Excel: "CSV UTF-8"; iconv -f latin1 -t utf-8 in.csv > out.csv) and run again.',
  });
}

/** Records one at a time (see readCsvBatches). */
export async function* readCsvRecords(source: ByteSource, signal?: AbortSignal, stats?: CsvReadStats): AsyncGenerator<CsvRecord> {
  for await (const batch of readCsvBatches(source, { signal, stats })) yield* batch;
}
