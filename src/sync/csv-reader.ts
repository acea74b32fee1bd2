/**
 * Streaming CSV for contacts sync: bytes → strict UTF-8 → csv-parse → records, with
 * back-pressure all the way (the consumer's `for await` pace decides how much is read), so
 * memory stays flat for any file size. RFC 4180 with a header, UTF-8 with or without BOM,
 * CRLF, LF or CR line ends, quoted commas, newlines and quotes.
 */
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import { CancelledError, UsageError } from '../cli/errors.js';

export interface CsvRecord {
  cells: string[];
  /** Physical line (1-based) where the record starts: what an editor shows. */
  line: number;
}

/** A record longer than this is a broken quote swallowing the file, not a contact. */
export const MAX_RECORD_BYTES = 1 << 20;

/** Decodes UTF-8 strictly (an invalid byte is an error, not U+FFFD) and drops a leading BOM. */
class StrictUtf8 extends Transform {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private lines = 1;
  private bytes = 0;
  constructor() {
    super({ readableObjectMode: false, decodeStrings: true, encoding: 'utf8' });
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    let text: string;
    try {
      text = this.decoder.decode(chunk, { stream: true });
    } catch (err) {
      cb(this.notUtf8(chunk, err));
      return;
    }
    this.bytes += chunk.length;
    this.countLines(text);
    cb(null, text);
  }
  override _flush(cb: TransformCallback): void {
    try {
      const text = this.decoder.decode();
      cb(null, text === '' ? undefined : text);
    } catch (err) {
      cb(this.notUtf8(Buffer.alloc(0), err));
    }
  }
  private countLines(text: string): void {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.lines++;
  }
  private notUtf8(chunk: Buffer, err: unknown): UsageError {
    // Find the bad byte: validity of a prefix is monotonic (once invalid, longer prefixes
    // stay invalid), so a binary search finds the longest valid prefix in O(n log n).
    const valid = (n: number): boolean => {
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(chunk.subarray(0, n), { stream: true });
        return true;
      } catch {
        return false;
      }
    };
    let lo = 0;
    let hi = chunk.length;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (valid(mid)) lo = mid;
      else hi = mid - 1;
    }
    const good = lo;
    const prefix = new TextDecoder('utf-8').decode(chunk.subarray(0, good));
    const line = this.lines + (prefix.match(/\n/g)?.length ?? 0);
    if (this.bytes === 0 && chunk.length >= 2 && ((chunk[0] === 0xff && chunk[1] === 0xfe) || (chunk[0] === 0xfe && chunk[1] === 0xff))) {
      return new UsageError('ERR_SYNC_NOT_UTF8', 'The file is UTF-16 (it starts with a UTF-16 byte-order mark), not UTF-8.', {
        hint: 'Save it as "CSV UTF-8" (Excel\'s "Unicode Text" is UTF-16), or convert it: iconv -f utf-16 -t utf-8 in.csv > out.csv',
        cause: err,
      });
    }
    return new UsageError('ERR_SYNC_NOT_UTF8', `The file is not valid UTF-8 (byte ${this.bytes + good}, line ${line}).`, {
      hint: 'Save the CSV as UTF-8 (Excel: "CSV UTF-8"; iconv -f latin1 -t utf-8 in.csv > out.csv) and run again.',
      cause: err,
    });
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

/**
 * Records of a CSV byte stream, header included (the caller reads the first one as the
 * header). CSV syntax errors and invalid UTF-8 throw UsageError (exit 2) naming the line;
 * ragged rows are yielded as they are (the caller rejects them row by row).
 */
export async function* readCsvRecords(source: Readable, signal?: AbortSignal): AsyncGenerator<CsvRecord> {
  const { parse, CsvError } = await import('csv-parse');
  // No `info` (it costs more than the parsing itself) and no skip_empty_lines: blank lines
  // arrive as [''] and are skipped below, which keeps the line count exact.
  const parser = parse({
    bom: true,
    relax_column_count: true,
    relax_quotes: true,
    max_record_size: MAX_RECORD_BYTES,
    record_delimiter: ['\r\n', '\n', '\r'],
  });
  const out = pipeline(source, new StrictUtf8(), parser, () => undefined);
  const onAbort = (): void => {
    out.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    // csv-parse's own `lines` counts a CRLF inside quotes twice, so lines are counted here:
    // a record starts on the line after the previous one ends.
    let line = 1;
    for await (const record of out as AsyncIterable<string[]>) {
      const start = line;
      line += 1 + countBreaks(record);
      if (record.length === 1 && record[0] === '') continue; // a blank line
      yield { cells: record, line: start };
    }
  } catch (err) {
    if (signal?.aborted) throw new CancelledError('Interrupted.', { cause: err });
    if (err instanceof UsageError) throw err;
    if (err instanceof CsvError) {
      const e = err as InstanceType<typeof CsvError> & { lines?: number };
      const what =
        e.code === 'CSV_MAX_RECORD_SIZE'
          ? `a record is longer than ${MAX_RECORD_BYTES} bytes (an unclosed quote?)`
          : e.code === 'CSV_QUOTE_NOT_CLOSED'
            ? 'a quoted field is never closed'
            : err.message;
      throw new UsageError('ERR_SYNC_CSV_SYNTAX', `The CSV cannot be parsed near line ${e.lines ?? '?'}: ${what}.`, {
        hint: 'Fix the quoting there (a quote inside a quoted field is written "") and run again.',
        cause: err,
      });
    }
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    out.destroy();
  }
}
