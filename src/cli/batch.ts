/**
 * Streaming `--batch <file|->` input and output shared by `token sign`, `hash` and
 * `encrypt` (cli.md §5). Constant memory for any number of lines: input is read chunk by
 * chunk and handed out in small arrays; output is gathered into ~64 KiB writes that wait
 * for `drain` when the destination is slow.
 *
 * Input formats, detected from the first line:
 * - one user id per line (LF or CRLF; a UTF-8 BOM at the start is dropped);
 * - a CSV whose header names an id column (`user_id`, `external_id`, `userId` or `id`,
 *   first found wins in that order) and optionally `email` and `name`. RFC 4180 quoting
 *   via csv-parse, loaded only when the file is a CSV.
 *
 * Columns a command does not read are named once through `onUnusedColumns` (see
 * {@link unusedColumnsWarning}).
 *
 * A bad row (empty id, id with surrounding whitespace, an id holding a control character, wrong
 * number of CSV cells, a line over {@link MAX_LINE_CHARS}) is never silently dropped: it either stops the batch with a
 * {@link UsageError} naming the line (default), or goes to `onBadRow` so the caller can
 * count and report it.
 *
 * @example
 * const input = await openBatchInput(ctx, '-');
 * const out = new BatchWriter(ctx.io.stdout);
 * for await (const rows of readBatchChunks(input, { signal: ctx.signal })) {
 *   for (const r of rows) { const p = out.write(`${hash(r.userId)}\n`); if (p) await p; }
 * }
 * await out.end();
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { Ctx } from './context.js';
import { CancelledError, UsageError } from './errors.js';
import { JSON_UNSAFE, quoteVisible, warn } from './output.js';

/** One input row. */
export interface BatchRecord {
  /** 1-based line number in the input (for a CSV record spanning lines: the line it ends on). */
  line: number;
  userId: string;
  email?: string;
  name?: string;
}

/** A row that cannot be used, with where it is and why. */
export interface BatchRowError {
  line: number;
  code: 'ERR_BATCH_EMPTY_ID' | 'ERR_BATCH_ID_WHITESPACE' | 'ERR_BATCH_ID_CONTROL' | 'ERR_BATCH_CSV_ROW' | 'ERR_BATCH_LINE_TOO_LONG' | 'ERR_BATCH_NOT_UTF8' | 'ERR_BATCH_NUL_BYTE';
  message: string;
}

export interface ReadBatchOptions {
  /** Called for each bad row, which is then skipped. Without it the first bad row throws a UsageError. */
  onBadRow?: (err: BatchRowError) => void;
  /** Stop reading (CancelledError) when aborted, e.g. ctx.signal. */
  signal?: AbortSignal;
  /** Rows per yielded array (default 1024). */
  chunkSize?: number;
  /**
   * The optional CSV columns the caller reads (default: both). Every other column of a CSV
   * header is named once through `onUnusedColumns`, so none is ignored silently.
   */
  uses?: ReadonlyArray<'email' | 'name'>;
  /** Told, before the first row, the header names (as written) of the columns that are not read. */
  onUnusedColumns?: (names: string[], idColumn: string) => void;
  /**
   * Told once, as soon as the text read holds a character JSON.stringify leaves raw but
   * `jsonText` escapes (DEL, C1, U+2028/U+2029), and before any row holding one is handed
   * out: until then a `--batch --json` line can use JSON.stringify as is. One regex scan of
   * each chunk read, rather than one test per row.
   */
  onJsonUnsafe?: () => void;
}

/** Longest accepted line (characters); longer lines are bad rows, and memory stays bounded. */
export const MAX_LINE_CHARS = 64 * 1024;

/** Header names that mark a CSV, in order of preference for the id column. */
export const ID_COLUMNS = ['user_id', 'external_id', 'userid', 'id'] as const;

/**
 * Open `--batch <file|->`: `-` is stdin (refused when stdin is a terminal: nothing would
 * ever arrive), anything else a file relative to ctx.cwd, checked before reading.
 * @throws UsageError ERR_BATCH_STDIN_TTY, ERR_BATCH_FILE
 */
export async function openBatchInput(ctx: Ctx, source: string): Promise<NodeJS.ReadableStream> {
  if (source === '-') {
    if (ctx.io.stdin.isTTY) {
      throw new UsageError('ERR_BATCH_STDIN_TTY', '--batch - reads ids from a pipe, but stdin is a terminal.', {
        hint: 'Pipe the ids in (e.g. `cut -d, -f1 users.csv | chatid hash --batch -`) or pass a file path.',
      });
    }
    return ctx.io.stdin;
  }
  // resolve('') is the working directory: "Cannot read … (EISDIR)" would name a directory
  // the user never gave (an unset variable in `--batch "$FILE"`).
  if (source.trim() === '') throw new UsageError('ERR_BATCH_FILE', '--batch is empty: it takes a file path, or - for stdin.', { hint: 'Check that the variable holding the path is set, e.g. --batch "$FILE".' });
  const path = resolve(ctx.cwd, source);
  try {
    const s = await stat(path);
    if (s.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
  } catch (err) {
    throw new UsageError('ERR_BATCH_FILE', `Cannot read the batch file ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)}).`, {
      cause: err,
      hint: 'Check the path, or use --batch - to read ids from stdin.',
    });
  }
  return createReadStream(path, { highWaterMark: 256 * 1024 });
}

/**
 * Read batch rows one at a time. Convenient; {@link readBatchChunks} is faster for big inputs.
 * @example for await (const r of readBatch(input)) console.log(r.line, r.userId);
 */
export async function* readBatch(input: NodeJS.ReadableStream | AsyncIterable<string | Uint8Array>, o: ReadBatchOptions = {}): AsyncGenerator<BatchRecord> {
  for await (const rows of readBatchChunks(input, o)) yield* rows;
}

/**
 * Read batch rows in arrays of up to `chunkSize` (one await per array, not per row).
 * Works on any async iterable of text or bytes (a file stream, stdin, an array in tests).
 * @throws UsageError ERR_BATCH_ROW (first bad row, when no onBadRow), ERR_BATCH_EMPTY (no rows at all)
 */
export async function* readBatchChunks(input: NodeJS.ReadableStream | AsyncIterable<string | Uint8Array>, o: ReadBatchOptions = {}): AsyncGenerator<BatchRecord[]> {
  const chunkSize = o.chunkSize ?? 1024;
  const bad = (e: BatchRowError): void => {
    if (o.onBadRow) {
      o.onBadRow(e);
      return;
    }
    throw new UsageError('ERR_BATCH_ROW', `Batch input line ${e.line}: ${e.message}`, {
      hint: 'Fix that line and run again.',
      details: { line: e.line, reason: e.code },
    });
  };
  const checkAbort = (): void => {
    if (o.signal?.aborted) throw new CancelledError();
  };

  const it = withoutTrailingBlankLines(input as AsyncIterable<string | Uint8Array>);
  const decoder = new StringDecoder('utf8');
  let onJsonUnsafe = o.onJsonUnsafe;
  const text = (c: string | Uint8Array): string => {
    const t = typeof c === 'string' ? c : decoder.write(c as Buffer);
    if (onJsonUnsafe && JSON_UNSAFE.test(t)) {
      onJsonUnsafe();
      onJsonUnsafe = undefined;
    }
    return t;
  };

  // Gather the first line to decide between plain ids and CSV.
  let head = '';
  let done = false;
  while (!head.includes('\n') && head.length <= MAX_LINE_CHARS) {
    const r = await it.next();
    if (r.done) {
      head += decoder.end();
      done = true;
      break;
    }
    head += text(r.value);
  }
  if (head.charCodeAt(0) === 0xfeff) head = head.slice(1);
  // The whole input was one line without a line end (`printf u1 | chatid hash --batch -`):
  // it is a row like any last line, which the loops below take only once it ends.
  if (done && head !== '' && !head.endsWith('\n')) head += '\n';
  const nl = head.indexOf('\n');
  const firstLine = (nl === -1 ? head : head.slice(0, nl)).replace(/\r$/, '');
  if (firstLine.includes('\r')) {
    // Lines that end in a lone CR (classic Mac; Excel's "CSV (Macintosh)") read as one line:
    // the whole file would be hashed or signed as a single id, header included.
    if (!done) await it.return(undefined).catch(() => undefined);
    throw new UsageError('ERR_BATCH_CR_LINE_ENDS', 'The first line holds a carriage return (CR) that ends no line: the input\'s lines end in a lone CR (classic Mac line ends), so every line would be read as one id.', {
      hint: "Convert the line ends first, e.g. `tr '\\r' '\\n' < users.csv > users-lf.csv`, or save the file as CSV UTF-8 (LF or CRLF).",
    });
  }
  const header = detectHeader(firstLine);
  if (!header && headerWithoutId(firstLine)) {
    if (!done) await it.return(undefined).catch(() => undefined);
    throw new UsageError('ERR_BATCH_NO_ID_COLUMN', `The first line (${JSON.stringify(firstLine.slice(0, 80))}) reads like a CSV header, but it names no id column: every line would be taken as a user id.`, {
      hint: `Name the id column ${ID_COLUMNS.join(', ')} (e.g. user_id,name,email), or give one user id per line with no header.`,
    });
  }

  if (header && o.onUnusedColumns) {
    const used = new Set<number>([header.id, ...(o.uses ?? ['email', 'name']).map((k) => header[k])]);
    const unused = header.names.filter((_, i) => !used.has(i));
    if (unused.length > 0) o.onUnusedColumns(unused, header.names[header.id]!);
  }

  let total = 0;
  try {
    if (header) {
      for await (const rows of readCsv(head, done ? undefined : it, text, () => decoder.end(), header, chunkSize, bad, checkAbort)) {
        total += rows.length;
        yield rows;
      }
    } else {
      let rows: BatchRecord[] = [];
      let line = 0;
      let rest = head;
      let skipping = false; // inside an over-long line, dropping characters until its end
      // Set when the text read so far holds U+FFFD, a control character other than a line end,
      // or a CR not before LF; only then are lines scanned for them (one regex per chunk read).
      let suspect = SUSPECT.test(head);
      const take = (raw: string): void => {
        line++;
        const id = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
        if (id.length > MAX_LINE_CHARS) bad({ line, code: 'ERR_BATCH_LINE_TOO_LONG', message: `line longer than ${MAX_LINE_CHARS} characters.` });
        else if (suspect && (badText(id, line, bad) || badControl(id, line, bad))) return;
        else if (id === '') bad({ line, code: 'ERR_BATCH_EMPTY_ID', message: 'empty line (no user id).' });
        else if (id.trim() !== id) bad({ line, code: 'ERR_BATCH_ID_WHITESPACE', message: whitespaceMessage(id) });
        else rows.push({ line, userId: id });
      };
      try {
        for (;;) {
          let start = 0;
          for (;;) {
            const i = rest.indexOf('\n', start);
            if (i === -1) break;
            if (skipping) {
              skipping = false;
            } else {
              take(rest.slice(start, i));
            }
            start = i + 1;
            if (rows.length >= chunkSize) {
              total += rows.length;
              yield rows;
              rows = [];
              checkAbort();
            }
          }
          rest = start === 0 ? rest : rest.slice(start);
          if (!skipping && rest.length > MAX_LINE_CHARS) {
            line++;
            bad({ line, code: 'ERR_BATCH_LINE_TOO_LONG', message: `line longer than ${MAX_LINE_CHARS} characters.` });
            skipping = true;
          }
          if (skipping) rest = '';
          if (done) break;
          const r = await it.next();
          if (r.done) {
            rest += decoder.end();
            done = true;
            if (rest === '') break;
            if (!rest.endsWith('\n')) rest += '\n'; // last line without a newline still counts
            continue;
          }
          const t = text(r.value);
          if (!suspect && SUSPECT.test(t)) suspect = true;
          rest += t;
        }
      } catch (err) {
        // A bad row stops the batch: hand out the good rows before it first, so the output
        // always ends just before the line the error names, whatever the chunk size.
        if (rows.length > 0) yield rows;
        throw err;
      }
      if (rows.length > 0) {
        total += rows.length;
        yield rows;
      }
    }
  } finally {
    // Stopped early (a bad row, an abort, the consumer broke off): release the input.
    if (!done) await it.return(undefined).catch(() => undefined);
  }
  if (total === 0 && !o.onBadRow) {
    throw new UsageError('ERR_BATCH_EMPTY', 'The batch input holds no user ids.', { hint: 'Give one id per line, or a CSV with a user_id/external_id/id column.' });
  }
}

/**
 * The input as text, less the blank lines that end it: a last empty line (`ids\n\n`, as many
 * editors and exports leave it) is no row with an empty id. The line end that closes the
 * last line is kept; blank lines before other lines stay, and stay errors.
 */
async function* withoutTrailingBlankLines(input: AsyncIterable<string | Uint8Array>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let held = ''; // the run of line ends that ends the text so far
  for await (const c of input) {
    const t = typeof c === 'string' ? c : decoder.write(c as Buffer);
    let end = t.length;
    while (end > 0 && (t.charCodeAt(end - 1) === LF || t.charCodeAt(end - 1) === CR)) end--;
    if (end === 0) {
      held += t;
      continue;
    }
    yield held === '' && end === t.length ? t : held + t.slice(0, end);
    held = t.slice(end);
  }
  const tail = decoder.end();
  if (tail !== '') yield held + tail;
  else if (held !== '') yield held.startsWith('\r\n') ? '\r\n' : held.slice(0, 1);
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * The warning for the columns of a batch CSV that `command` does not read.
 * @example unusedColumnsWarning('hash --batch', ['plan'], 'user_id', [])
 * // 'hash --batch does not read the column "plan": it uses the user_id column only.'
 */
export function unusedColumnsWarning(command: string, names: readonly string[], idColumn: string, uses: ReadonlyArray<'email' | 'name'>): string {
  const list = names.map((n) => JSON.stringify(n)).join(', ');
  const reads = uses.length === 0 ? `the ${idColumn} column only` : `${idColumn}, ${uses.join(' and ')}`;
  return `${command} does not read the column${names.length > 1 ? 's' : ''} ${list}: it uses ${reads}.`;
}

/**
 * The readBatchChunks options of `command`, which reads the optional columns `uses`: any other
 * column of a batch CSV is named in a warning on stderr before the first row.
 * @example readBatchChunks(input, { signal: ctx.signal, ...readsColumns(ctx, 'hash --batch', []) })
 */
export function readsColumns(ctx: Ctx, command: string, uses: ReadonlyArray<'email' | 'name'>): Pick<ReadBatchOptions, 'uses' | 'onUnusedColumns'> {
  return { uses, onUnusedColumns: (names, id) => warn(ctx, unusedColumnsWarning(command, names, id, uses)) };
}

/**
 * The message for an id with whitespace around it, invisible characters escaped
 * (quoteVisible); a BOM inside the input (files joined with cat) is named.
 */
function whitespaceMessage(id: string): string {
  return `user id ${quoteVisible(id)} has leading or trailing whitespace${id.includes('\uFEFF') ? ' (U+FEFF, a byte-order mark: files joined with cat?)' : ''}.`;
}

/**
 * What no user id holds: C0 controls (TAB included: a TSV row pasted as one id) and DEL, which
 * are never part of a real id and which the widget, the vendor and a spreadsheet each treat
 * differently. contacts sync refuses them in external ids too (sync/coerce.ts).
 */
// eslint-disable-next-line no-control-regex -- control characters are exactly what we look for
export const ID_CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Text that needs a closer look line by line (badText): U+FFFD, NUL, another control
 * character than the line ends, or a CR not followed by LF (inside a line). A CR that ends a
 * chunk just before the next one's LF only costs the per-line scan.
 */
// eslint-disable-next-line no-control-regex -- control characters are exactly what we look for
const SUSPECT = /[\uFFFD\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f]|\r(?!\n)/;

/**
 * Invalid UTF-8 decodes to U+FFFD and a UTF-16 file read as UTF-8 is full of NUL: either
 * would sign or hash an id that is not the one in the file. Reports and returns true then.
 */
function badText(text: string, line: number, bad: (e: BatchRowError) => void): boolean {
  if (text.includes('\uFFFD')) {
    bad({ line, code: 'ERR_BATCH_NOT_UTF8', message: 'not valid UTF-8 (a Latin-1 or UTF-16 file?). Convert it, e.g. `iconv -f latin1 -t utf-8`.' });
    return true;
  }
  if (text.includes('\u0000')) {
    bad({ line, code: 'ERR_BATCH_NUL_BYTE', message: 'holds a NUL byte (a UTF-16 file?). Convert it to UTF-8.' });
    return true;
  }
  return false;
}

/** An id holding a control character: reports it and returns true. */
function badControl(id: string, line: number, bad: (e: BatchRowError) => void): boolean {
  if (!ID_CONTROL.test(id)) return false;
  bad({ line, code: 'ERR_BATCH_ID_CONTROL', message: controlMessage(id) });
  return true;
}

/** The message for an id holding a control character: which one, where, and the likely cause. */
function controlMessage(id: string): string {
  const i = id.search(ID_CONTROL);
  const c = id.charCodeAt(i);
  const shown = id.length > 80 ? `${quoteVisible(id.slice(0, 80))}…` : quoteVisible(id);
  if (c === 0x09) {
    return `user id ${shown} holds a TAB (character ${i + 1}): a tab-separated row? Give one id per line (e.g. \`cut -f1 users.tsv\`) or a CSV with a user_id column.`;
  }
  const name = c === 0x0d ? 'a carriage return (CR)' : `the control character U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
  return `user id ${shown} holds ${name} (character ${i + 1}), which no user id has. Remove it from the input.`;
}

interface Header {
  id: number;
  email: number;
  name: number;
  columns: number;
  /** The header's cells as written (trimmed, unquoted). */
  names: string[];
}

/** Other columns of a batch CSV: a first line made of these (and no id column) is a header that lost its id. */
const OTHER_COLUMNS = new Set(['email', 'name']);

/** Whether `line` is a header naming only other columns, e.g. `name,email` or `email`. */
function headerWithoutId(line: string): boolean {
  const cells = line.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1').trim().toLowerCase());
  return cells.some((c) => OTHER_COLUMNS.has(c)) && (cells.length > 1 || OTHER_COLUMNS.has(cells[0] ?? ''));
}

/** A header line names an id column; anything else is the first plain id. */
function detectHeader(line: string): Header | undefined {
  const unquote = (c: string): string => c.trim().replace(/^"(.*)"$/, '$1').trim();
  // One column: a header only when it is an id column's name, quoted or not (`"user_id"`, as
  // exports that quote every cell write it); anything else is the first plain id.
  if (!line.includes(',') && !ID_COLUMNS.includes(unquote(line).toLowerCase() as (typeof ID_COLUMNS)[number])) return undefined;
  const names = line.split(',').map(unquote);
  const cells = names.map((c) => c.toLowerCase());
  let id = -1;
  for (const name of ID_COLUMNS) {
    id = cells.indexOf(name);
    if (id !== -1) break;
  }
  if (id === -1) return undefined;
  return { id, email: cells.indexOf('email'), name: cells.indexOf('name'), columns: cells.length, names };
}

async function* readCsv(
  head: string,
  it: AsyncIterator<string | Uint8Array> | undefined,
  text: (c: string | Uint8Array) => string,
  flush: () => string,
  h: Header,
  chunkSize: number,
  bad: (e: BatchRowError) => void,
  checkAbort: () => void,
): AsyncGenerator<BatchRecord[]> {
  const { parse } = await import('csv-parse');
  const parser = parse({
    from_line: 2,
    relax_quotes: false,
    skip_records_with_error: true,
    max_record_size: MAX_LINE_CHARS,
    skip_empty_lines: false,
  });
  let rows: BatchRecord[] = [];
  // Line numbers are counted here rather than with csv-parse's `info` option, which costs
  // about three times the parsing itself: a record ends `1 + its quoted newlines` lines after
  // the previous one, and a skipped record resets the count to the line csv-parse reports.
  let lineNo = 1;
  let consumed = 0;
  const errors: Array<BatchRowError & { before: number }> = [];
  parser.on('skip', (err: Error & { lines?: number }) => {
    const before = (parser as unknown as { info: { records: number } }).info.records;
    errors.push({ line: err.lines ?? 0, code: 'ERR_BATCH_CSV_ROW', message: `not a valid CSV row (${err.message}).`, before });
  });
  // The parser runs ahead of us, so its skip events arrive early: report each one just
  // before the record that followed it, keeping the caller's view in line order.
  const drainErrors = (upTo = Infinity): void => {
    while (errors.length && errors[0]!.before <= upTo) {
      const { before: _b, ...e } = errors.shift()!;
      lineNo = Math.max(lineNo, e.line);
      bad(e);
    }
  };
  // Feed the parser from our iterator, honouring its back-pressure.
  const feed = (async () => {
    const write = (s: string): Promise<void> | undefined => (s === '' || parser.write(s) ? undefined : new Promise((r) => parser.once('drain', r)));
    let p = write(head);
    if (p) await p;
    if (it) {
      for (;;) {
        const r = await it.next();
        if (r.done) break;
        p = write(text(r.value));
        if (p) await p;
      }
      const tail = flush();
      if (tail) parser.write(tail);
    }
    parser.end();
  })();
  feed.catch((err: unknown) => parser.destroy(err as Error));
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      drainErrors(consumed);
      consumed++;
      let line = lineNo + 1;
      for (const cell of record) if (cell.includes('\n')) line += cell.split('\n').length - 1;
      lineNo = line;
      if (record.length === 1 && record[0] === '' && h.columns > 1) {
        bad({ line, code: 'ERR_BATCH_EMPTY_ID', message: 'empty line (no user id).' });
        continue;
      }
      if (record.length !== h.columns) {
        bad({ line, code: 'ERR_BATCH_CSV_ROW', message: `${record.length} cells where the header has ${h.columns}.` });
        continue;
      }
      const id = record[h.id] ?? '';
      if (id === '') {
        bad({ line, code: 'ERR_BATCH_EMPTY_ID', message: 'the id cell is empty.' });
        continue;
      }
      if (record.some((c) => SUSPECT.test(c)) && record.some((c) => badText(c, line, bad))) continue;
      // One short regex per row: a quoted id cell may hold a line break or a TAB.
      if (badControl(id, line, bad)) continue;
      if (id.trim() !== id) {
        bad({ line, code: 'ERR_BATCH_ID_WHITESPACE', message: whitespaceMessage(id) });
        continue;
      }
      const rec: BatchRecord = { line, userId: id };
      const email = h.email === -1 ? '' : (record[h.email] ?? '');
      const name = h.name === -1 ? '' : (record[h.name] ?? '');
      if (email !== '') rec.email = email;
      if (name !== '') rec.name = name;
      rows.push(rec);
      if (rows.length >= chunkSize) {
        yield rows;
        rows = [];
        checkAbort();
      }
    }
    await feed;
    drainErrors();
    if (rows.length) yield rows;
  } catch (err) {
    // As for plain ids: the good rows before the bad one first, then the error.
    if (rows.length) yield rows;
    throw err;
  } finally {
    parser.destroy();
  }
}

/**
 * Buffered output that respects back-pressure: text is gathered into chunks of about
 * `chunkChars` and written together; when the stream's buffer is full, `write` returns a
 * promise that resolves on `drain`. Callers await only that promise, so the fast path
 * allocates nothing per row.
 * @example
 * const w = new BatchWriter(ctx.io.stdout);
 * const p = w.write('line\n'); if (p) await p;
 * await w.end(); // flushes; does not close the stream
 */
export class BatchWriter {
  private buf: string[] = [];
  private size = 0;
  private readonly out: NodeJS.WritableStream;
  private readonly chunkChars: number;
  /** Rows written so far (calls to write). */
  count = 0;

  constructor(out: NodeJS.WritableStream, chunkChars = 64 * 1024) {
    this.out = out;
    this.chunkChars = chunkChars;
  }

  /** Queue `text`; returns a promise to await only when the destination asked us to wait. */
  write(text: string): Promise<void> | undefined {
    this.buf.push(text);
    this.size += text.length;
    this.count++;
    return this.size >= this.chunkChars ? this.flush() : undefined;
  }

  /** Write what is queued; resolves once the stream can take more. */
  flush(): Promise<void> | undefined {
    if (this.size === 0 && this.buf.length === 0) return undefined;
    const chunk = this.buf.length === 1 ? this.buf[0]! : this.buf.join('');
    this.buf = [];
    this.size = 0;
    if (this.out.write(chunk)) return undefined;
    return new Promise<void>((resolve) => this.out.once('drain', () => resolve()));
  }

  /** Flush everything queued (the stream stays open: it may be stdout). */
  async end(): Promise<void> {
    await this.flush();
  }
}
