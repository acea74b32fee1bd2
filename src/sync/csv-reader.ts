/**
 * Streaming CSV for contacts sync: bytes → strict UTF-8 check → csv-parse → records, with
 * back-pressure all the way (the consumer's `for await` pace decides how much is read), so
 * memory stays flat for any file size. RFC 4180 with a header, UTF-8 with or without BOM,
 * CRLF, LF or CR line ends, quoted commas, newlines and quotes.
 *
 * The parsing is csv-parse's (a well-kept library, not a tokenizer of our own), fed the file's
 * own Buffer chunks: UTF-8 is checked on the bytes (`buffer.isUtf8`), never decoded and encoded
 * again. Each chunk is written to the parser, which parses it at once, and the records are read
 * back from its buffer before the next chunk: one await per chunk, not one per row (and no
 * `on_record`, whose per-record context object cost more than the parsing). A blank line
 * (nothing between two line ends) and a record holding one empty quoted cell (`""`) both reach
 * us as `['']`; csv-parse's `raw` text tells them apart, so a one-column file's `""` row is a
 * row (with an empty id), while blank lines are skipped and counted.
 */
import { isUtf8 } from 'node:buffer';
import type { Readable } from 'node:stream';
import type { CsvError as CsvErrorType } from 'csv-parse';
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
  /** Set at the end of the read: where the text after it would start (see ReadOptions.from). */
  end?: TextPosition;
}

/** A place in the file: byte offset, line as records count them, line as an editor counts LFs. */
export interface TextPosition {
  byte: number;
  /** Line (1-based) where a record starting here starts: CRLF, LF and CR each end a line. */
  line: number;
  /** Line (1-based) counting LFs only, as in the invalid-UTF-8 message. */
  lfLine: number;
}

/**
 * Bytes to read: a stream, or chunks that stay valid only until the one after the next is
 * asked for (fileChunks); the reader hashes a chunk at once and csv-parse keeps at most a view
 * of its last bytes until the next chunk.
 */
export type ByteSource = Readable | ChunkSource;

export interface ChunkSource extends AsyncIterable<Buffer> {
  /** Stop reading (an abort); the next chunk is not read. */
  destroy(err?: Error): void;
}

/**
 * A file read into two buffers used in turn for every chunk. A stream hands out a new 64 KiB
 * buffer per chunk: reading a large file twice made the allocator take memory from the system
 * and give it back over and over, and the page faults cost more than the reading. Two, not one:
 * csv-parse keeps the last few bytes of a chunk (a possible CRLF or escaped quote) as a view
 * until the next chunk arrives, so a chunk must stay intact until the one after it is read.
 *
 * `file` is a path (opened and closed here) or the descriptor of a file opened by the caller
 * (read at positions, left open: the parallel scan reads one open file from two threads);
 * `range` limits the bytes read.
 */
export function fileChunks(file: string | number, size = 1 << 16, range: { start: number; end: number } = { start: 0, end: Number.POSITIVE_INFINITY }): ChunkSource {
  let stopped: Error | undefined;
  return {
    destroy(err?: Error) {
      stopped ??= err ?? new Error('closed');
    },
    async *[Symbol.asyncIterator]() {
      const fs = await import('node:fs');
      const fd = typeof file === 'number' ? file : await new Promise<number>((resolve, reject) => fs.open(file, 'r', (err, d) => (err ? reject(err) : resolve(d))));
      const readAt = (buf: Buffer, len: number, pos: number): Promise<number> =>
        new Promise((resolve, reject) => fs.read(fd, buf, 0, len, pos, (err, n) => (err ? reject(err) : resolve(n))));
      try {
        const bufs = [Buffer.allocUnsafeSlow(size), Buffer.allocUnsafeSlow(size)];
        for (let turn = 0, at = range.start; at < range.end; turn ^= 1) {
          if (stopped) throw stopped;
          const buf = bufs[turn]!;
          const bytesRead = await readAt(buf, Math.min(size, range.end - at), at);
          if (bytesRead === 0) return;
          at += bytesRead;
          yield bytesRead === size ? buf : buf.subarray(0, bytesRead);
        }
      } finally {
        if (typeof file !== 'number') await new Promise<void>((resolve) => fs.close(fd, () => resolve()));
      }
    },
  };
}

/** A record longer than this is a broken quote swallowing the file, not a contact. */
export const MAX_RECORD_BYTES = 1 << 20;

const LF = 0x0a;
const CR = 0x0d;

/** A CSV syntax error, at the line where the record in question starts. */
export class CsvSyntaxError extends Error {
  readonly kind: 'quote-not-closed' | 'record-too-long';
  /** Line where the record in question starts. */
  readonly line: number;
  /** record-too-long: whether the field that went past the limit is a quoted one (a quote left open, most likely). */
  readonly quoted: boolean;
  constructor(kind: 'quote-not-closed' | 'record-too-long', line: number, quoted = kind === 'quote-not-closed') {
    super(kind);
    this.kind = kind;
    this.line = line;
    this.quoted = quoted;
  }
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
  /** The record size limit (default MAX_RECORD_BYTES; smaller in tests). */
  maxRecordBytes?: number | undefined;
  /**
   * Read without csv-parse's `raw` text (~15 % of its cost): blank lines are then skipped by
   * csv-parse itself, which does not say where, so line numbers are only sure in a file
   * without them. Throws BlankLineSeen at the first sign of one before the end (the caller
   * reads again without `fast`); blank lines after the last record are counted as usual.
   */
  fast?: boolean | undefined;
  /**
   * The text starts at this place of a file, after a record (the parallel scan reads a file in
   * two parts): numbers continue from there, no byte-order mark is looked for, and a blank
   * line at its start is counted as one after a record.
   */
  from?: TextPosition | undefined;
  /**
   * False: the text stops before the file's end, where the caller expects a record to end.
   * When it ends inside a quoted field instead, SplitInQuotes is thrown (not a syntax error:
   * the quote may close after the cut); in a `fast` read, a blank line anywhere throws
   * BlankLineSeen (records may follow). Default true.
   */
  final?: boolean | undefined;
}

/** A read with `final: false` ended inside a quoted field: the cut was not between records. */
export class SplitInQuotes extends Error {
  constructor() {
    super('the text was cut inside a quoted field');
  }
}

/** A `fast` read met a blank line it cannot place: read again without `fast`. */
export class BlankLineSeen extends Error {
  constructor() {
    super('a blank line before the end of the file: read again with raw record text');
  }
}

/**
 * Records of a CSV byte stream, header included (the caller reads the first one as the
 * header), a chunk's worth at a time. CSV syntax errors and invalid UTF-8 throw UsageError
 * (exit 2) naming the line; ragged rows are yielded as they are (the caller rejects them row
 * by row).
 */
export async function* readCsvBatches<T = CsvRecord>(source: ByteSource, o: ReadOptions<T> = {}): AsyncGenerator<T[]> {
  const { signal } = o;
  const maxRecordBytes = o.maxRecordBytes ?? MAX_RECORD_BYTES;
  const make = o.make ?? ((cells: string[], line: number) => ({ cells, line }) as T);
  const { parse, CsvError } = await import('csv-parse');
  let out: T[] = [];
  const from = o.from;
  const final = o.final !== false;
  let line = from?.line ?? 1; // physical line where the next record starts
  let records = from ? 1 : 0; // a text that continues a file comes after a record
  let blankLines = 0;
  // csv-parse's own `lines` counts a CRLF inside quotes twice, so lines are counted here: a
  // record starts on the line after the previous one ends. `raw` is the record's text with its
  // line end: only line ends for a blank line, `""` and a line end for an empty quoted cell.
  // The parser is driven by hand, write then read, with no pipe: its readable side holds the
  // chunk's records until drain() takes them.
  const fast = o.fast === true;
  const parser = parse({
    bom: !from, // a BOM is one only at the start of the file
    relax_column_count: true,
    relax_quotes: true,
    max_record_size: maxRecordBytes,
    record_delimiter: ['\r\n', '\n', '\r'],
    ...(fast ? { skip_empty_lines: true } : { raw: true }),
  });
  parser.on('error', () => undefined); // read synchronously from parser.errored below
  const drain = fast
    ? (): void => {
        // Blank lines never reach us here (skipped, and counted in parser.info.empty_lines):
        // a [''] record is a row holding "".
        for (let record = parser.read() as string[] | null; record !== null; record = parser.read() as string[] | null) {
          const start = line;
          line += 1 + countBreaks(record);
          records++;
          out.push(make(record, start));
        }
      }
    : (): void => {
        for (let rec = parser.read() as { record: string[]; raw: string } | null; rec !== null; rec = parser.read() as typeof rec) {
          const { record, raw } = rec;
          const start = line;
          if (record.length === 1 && record[0] === '' && isLineEnds(raw)) {
            line++;
            if (records > 0) blankLines++;
            continue;
          }
          line += 1 + countBreaks(record);
          records++;
          out.push(make(record, start));
        }
      };
  // fast: any blank line skipped before a record moves the lines of the records after it.
  // Checked after each write of text that ends with a byte that is not a line end: every blank
  // line csv-parse counted by then has a record after it. (The run of line ends that ends a
  // chunk is written apart, after the check: blank lines there may be the file's last lines.)
  const skippedBlank = (): boolean => fast && parser.info.empty_lines > 0;
  let lastByte = -1; // of the text given to csv-parse, for the fast read's count at the end
  // The line ends (CRLF counting as one) of the run of CR and LF bytes that ends the text so
  // far: a fast read counts the blank lines of a file's last lines from it.
  let runEnds = 0;
  let runCR = false; // the run ends with CR: an LF next is the second half of a CRLF
  const trackRun = (b: Buffer): void => {
    const i = runStart(b);
    if (i > 0) {
      runEnds = 0; // a byte that is not a line end: the run starts after it
      runCR = false;
    }
    for (let k = i; k < b.length; k++) {
      if (b[k] === LF && runCR) runCR = false;
      else {
        runEnds++;
        runCR = b[k] === CR;
      }
    }
  };
  const failed = (): void => {
    if (!parser.errored) return;
    // A fast read that skipped a blank line does not know the error's line: read the sure way.
    if (fast && parser.info.empty_lines > 0) throw new BlankLineSeen();
    throw parser.errored;
  };
  const onAbort = (): void => {
    source.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  let bytes = from?.byte ?? 0; // bytes of the file before `carry`
  let lines = from?.lfLine ?? 1; // line of the first byte of `carry` (LF counted, as an editor does)
  let carry: Buffer | undefined; // bytes of a character cut by the chunk boundary
  let atStart = !from; // no character seen yet (a UTF-8 BOM is dropped there)
  try {
    // The bytes up to the last whole character, checked; a cut character waits in `carry`.
    const check = (chunk: Buffer, last: boolean): Buffer => {
      const b = carry ? Buffer.concat([carry, chunk]) : chunk;
      const whole = last ? b.length : completeLength(b);
      let head = whole === b.length ? b : b.subarray(0, whole);
      if (!isUtf8(head) || (last && whole < b.length)) throw notUtf8(b, bytes, lines);
      carry = whole < b.length ? Buffer.from(b.subarray(whole)) : undefined;
      bytes += whole;
      for (let k = head.indexOf(LF); k >= 0; k = head.indexOf(LF, k + 1)) lines++;
      if (atStart && head.length > 0) {
        atStart = false;
        // A strict decoder drops one BOM, then csv-parse's `bom` drops one more: as before.
        if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) head = head.subarray(3);
      }
      return head;
    };
    let first = !from;
    for await (const raw of source as AsyncIterable<Buffer | string>) {
      const chunk = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
      if (first && chunk.length >= 2 && ((chunk[0] === 0xff && chunk[1] === 0xfe) || (chunk[0] === 0xfe && chunk[1] === 0xff))) {
        throw new UsageError('ERR_SYNC_NOT_UTF8', 'The file is UTF-16 (it starts with a UTF-16 byte-order mark), not UTF-8.', {
          hint: 'Save it as "CSV UTF-8" (Excel\'s "Unicode Text" is UTF-16), or convert it: iconv -f utf-16 -t utf-8 in.csv > out.csv',
        });
      }
      if (chunk.length > 0) first = false;
      o.tap?.(chunk);
      const head = check(chunk, false);
      if (head.length > 0) {
        // Parsed at once, synchronously. A fast read writes the chunk's closing run of line ends
        // on its own, after checking what came before it (skippedBlank).
        const run = fast ? runStart(head) : head.length;
        if (run > 0) {
          parser.write(run === head.length ? head : head.subarray(0, run));
          drain(); // before failed(): an error's line is where the record after the last one starts
          failed();
          if (skippedBlank()) throw new BlankLineSeen();
        }
        if (run < head.length) parser.write(head.subarray(run));
        lastByte = head[head.length - 1]!;
        if (fast) trackRun(head);
      }
      drain();
      failed();
      if (signal?.aborted) throw new CancelledError('Interrupted.');
      if (out.length) {
        const batch = out;
        out = [];
        yield batch;
      }
    }
    // The first bytes of a character that the file ends without: not UTF-8 (check throws).
    if (carry) check(Buffer.alloc(0), true);
    await new Promise<void>((resolve) => parser.end(() => resolve()));
    drain();
    failed();
    if (fast) {
      // csv-parse counts some blank lines late (those before the first record, and the last
      // lines of a file with its last record, at end()), and at end() it counts one more when
      // the text ends with a line end. So `skipped` is every blank line of the text; those
      // in the run of line ends that ends it (whose first line end closes the last record)
      // are `trailing`. Only when they are all there is no record after a skipped blank line;
      // else read the sure way. A negative count is a csv-parse other than the one this was
      // written for: read the sure way too.
      const skipped = parser.info.empty_lines - (lastByte === LF || lastByte === CR ? 1 : 0);
      const trailing = runEnds - 1; // blank lines in the run of line ends that ends the text
      if (skipped < 0 || (skipped > 0 && (skipped > trailing || !final))) throw new BlankLineSeen();
      if (records > 0) blankLines += skipped;
    }
    if (o.stats) {
      o.stats.blankLines += blankLines;
      o.stats.end = { byte: bytes, line, lfLine: lines };
    }
    if (out.length) yield out;
  } catch (err) {
    if (signal?.aborted) throw new CancelledError('Interrupted.', { cause: err });
    if (!final && err instanceof CsvError && err.code === 'CSV_QUOTE_NOT_CLOSED') throw new SplitInQuotes();
    // Whether the parser stopped inside a quoted field: `state` is csv-parse's public
    // (backward-compatible) view of it; the error's own `quoting` is set only once a quote closes.
    const inQuotes = (parser as unknown as { state?: { quoting?: unknown } }).state?.quoting === true;
    const syntax = err instanceof CsvError ? toSyntaxError(err, line, inQuotes) : err;
    if (syntax instanceof CsvSyntaxError) {
      const what =
        syntax.kind === 'quote-not-closed'
          ? 'a quoted field in the record starting there is never closed'
          : `the record starting there is longer than ${maxRecordBytes} bytes, ${syntax.quoted ? 'in a quoted field (a quote left open?)' : 'with no quote open (one cell or line that long is no contact)'}`;
      throw new UsageError('ERR_SYNC_CSV_SYNTAX', `The CSV cannot be parsed near line ${syntax.line}: ${what}.`, {
        hint: syntax.quoted
          ? 'Fix the quoting there (a quote inside a quoted field is written "") and run again.'
          : `Check that line: is it the file you meant, and are its line ends intact? A record may hold at most ${maxRecordBytes} bytes.`,
        cause: err,
      });
    }
    if (err instanceof CsvError) {
      throw new UsageError('ERR_SYNC_CSV_SYNTAX', `The CSV cannot be parsed near line ${line}: ${err.message}`, {
        hint: 'Fix the CSV there and run again.',
        cause: err,
      });
    }
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    source.destroy();
    parser.destroy();
  }
}

/** Where the run of CR and LF bytes that ends `b` starts (b.length: `b` ends with another byte). */
function runStart(b: Buffer): number {
  let i = b.length;
  while (i > 0 && (b[i - 1] === LF || b[i - 1] === CR)) i--;
  return i;
}

/** Whether a record's raw text is only line ends (a blank line). */
function isLineEnds(raw: string): boolean {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c !== LF && c !== 0x0d) return false;
  }
  return true;
}

/** csv-parse's errors that a CSV file can cause, as ours (undefined for any other). */
function toSyntaxError(err: CsvErrorType, line: number, inQuotes: boolean): CsvSyntaxError | undefined {
  if (err.code === 'CSV_QUOTE_NOT_CLOSED') return new CsvSyntaxError('quote-not-closed', line);
  if (err.code === 'CSV_MAX_RECORD_SIZE') return new CsvSyntaxError('record-too-long', line, inQuotes || (err as { quoting?: unknown }).quoting === true);
  return undefined;
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
